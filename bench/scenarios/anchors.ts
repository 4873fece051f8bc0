import { randomBytes } from "node:crypto";
import type { Bench } from "../context.js";
import { log } from "../context.js";
import { decodeEcho, ECHO_PATH, encodeEcho } from "../echo.js";
import { h2loadRow } from "../measure.js";
import { H2 } from "../options.js";
import { startServer, stopServer } from "../servers.js";

/** The anchors: bare @grpc/grpc-js and bare connect-node unary echo, the floors the service is read against. */

async function echoAnchor(bench: Bench, id: string, mode: "grpc-echo" | "connect-echo", what: string, execArgv: string[]) {
  const server = await startServer(bench.options, id, mode, {}, execArgv);
  try {
    const message = encodeEcho(`va_${randomBytes(16).toString("hex")}`);
    const row = await h2loadRow(bench, {
      server,
      path: ECHO_PATH,
      protocol: "grpc",
      message,
      name: id,
      auth: false,
      check: (response) => {
        if (decodeEcho(response).message.length !== 35) throw new Error(`${id}: echo answered wrong`);
      },
    });
    bench.add({ id, group: "anchors", what, load: `h2load ${H2.connections}×${H2.streams}, gRPC`, ...row });
  } finally {
    await stopServer(server);
  }
}

/** Both anchors, or only `only`. */
export async function runAnchors(bench: Bench, execArgv: string[] = [], only?: string) {
  if ((only === undefined || only === "anchor-grpc-js") && bench.selected("anchor-grpc-js", "anchors")) {
    log("anchor-grpc-js: bare @grpc/grpc-js echo");
    await echoAnchor(bench, "anchor-grpc-js", "grpc-echo", "bare @grpc/grpc-js unary echo", execArgv);
  }
  if ((only === undefined || only === "anchor-connect") && bench.selected("anchor-connect", "anchors")) {
    log("anchor-connect: bare @connectrpc/connect-node echo");
    await echoAnchor(
      bench,
      "anchor-connect",
      "connect-echo",
      "bare connect-node (http2.createServer + connectNodeAdapter) unary echo",
      execArgv,
    );
  }
}
