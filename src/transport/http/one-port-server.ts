import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { HttpRequest, HttpResponse } from "./exchange.js";

/** The first bytes every HTTP/2 prior-knowledge (h2c) client sends. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export type RequestHandler = (request: HttpRequest, response: HttpResponse) => void;

export interface OnePortServer {
  listen(port: number, host: string): Promise<net.AddressInfo>;
  /** Stops accepting, asks HTTP/2 clients to go away, waits up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * Serves HTTP/1.1 and cleartext HTTP/2 on one port. Node's `allowHTTP1` only works with TLS (ALPN),
 * so the first bytes of each connection decide: the HTTP/2 preface goes to the http2 server,
 * anything else to the http/1.1 server. Both run the same handler.
 */
export function createOnePortServer(handler: RequestHandler, options: { firstByteTimeoutMs?: number } = {}): OnePortServer {
  const h1 = http.createServer({ requestTimeout: 60_000 }, handler);
  h1.keepAliveTimeout = 65_000;
  // h1 never listens itself (sockets are handed to it), but Node only tracks its connections (for
  // closeIdleConnections, requestTimeout and headersTimeout) once it has emitted 'listening'.
  h1.emit("listening");
  const h2 = http2.createServer({}, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<net.Socket>();

  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setTimeout(options.firstByteTimeoutMs ?? 10_000, () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, H2_PREFACE.length);
      const isH2 = head.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
      // "P" may start "POST" as well as "PRI": wait until the bytes diverge or the preface is complete.
      if (isH2 && head.length < H2_PREFACE.length) return;
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      if (isH2) {
        // http2 reads the socket handle itself; resuming here would corrupt the session.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });

  return {
    async listen(port, host) {
      server.listen(port, host);
      await once(server, "listening");
      return server.address() as net.AddressInfo;
    },
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      const deadline = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, graceMs + 1_000))]);
      clearTimeout(deadline);
      for (const socket of sockets) socket.destroy();
    },
  };
}
