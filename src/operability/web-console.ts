import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { HttpResponse } from "../transport/http/exchange.js";
import type { PlainRoute } from "../transport/http/plain-route.js";

const WEB_DIR = new URL("../../web/", import.meta.url);

/** The page may call any gateway the user types in; everything else comes from this origin. */
const CSP = "default-src 'self'; connect-src 'self' http: https:; style-src 'self' 'unsafe-inline'; img-src 'self' data:";

/**
 * The sandbox page (`web/index.html`) at `/` and its script at `/app.js`. The script is
 * `web/app.ts` bundled with esbuild on first request and kept in memory: no build step and no
 * bundle to commit or keep in sync, at the cost of ~0.5 s on the first page load.
 */
export function webConsoleRoutes(): PlainRoute[] {
  let bundle: Promise<string> | undefined;
  const send = (response: HttpResponse, status: number, type: string, body: string) => {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, {
      "content-type": type,
      "cache-control": "no-store",
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
    });
    response.end(body);
  };
  const fail = (response: HttpResponse) => (error: unknown) =>
    send(
      response,
      500,
      "text/plain; charset=utf-8",
      `page unavailable: ${error instanceof Error ? error.message : String(error)}`,
    );
  return [
    {
      path: "/",
      handle(_request, response) {
        readFile(new URL("index.html", WEB_DIR), "utf8").then(
          (html) => send(response, 200, "text/html; charset=utf-8", html),
          fail(response),
        );
      },
    },
    {
      path: "/app.js",
      handle(_request, response) {
        bundle ??= bundleApp().catch((error: unknown) => {
          bundle = undefined;
          throw error;
        });
        bundle.then((js) => send(response, 200, "text/javascript; charset=utf-8", js), fail(response));
      },
    },
  ];
}

async function bundleApp(): Promise<string> {
  // Loaded only when the page is asked for: production (non-sandbox) never starts esbuild.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [fileURLToPath(new URL("app.ts", WEB_DIR))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild produced no output");
  return output.text;
}
