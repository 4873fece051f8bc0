import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A pass-through in front of the sandbox simulator that counts the service's calls by kind and
 * status, e.g. `create 201` (a new VA), `create 409` + `lookup 200` (a retried create adopting the
 * VA an attempt that crashed had made), `pay 202`. The simulator itself is untouched.
 */
export interface CountingProxy {
  url: string;
  counts: Map<string, number>;
  /** Called as each answer is about to go back to the service, e.g. `create 201`. */
  onAnswer: Set<(name: string) => void>;
  close(): Promise<void>;
}

function kindOf(method: string, path: string): string {
  if (path === "/v1/virtual-accounts") return method === "POST" ? "create" : "lookup";
  if (path.endsWith("/simulate-payment")) return "pay";
  if (path.endsWith("/cancel")) return "cancel";
  return `${method} other`;
}

function errorCode(body: Buffer): string {
  try {
    return String((JSON.parse(body.toString("utf8")) as { error_code?: unknown }).error_code);
  } catch {
    return "?";
  }
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  const onAnswer = new Set<(name: string) => void>();
  const server = createServer(async (req, res) => {
    res.on("error", () => undefined);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? "/", target);
      const headers: Record<string, string> = {};
      for (const name of ["authorization", "content-type", "accept"]) {
        const value = req.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      const method = req.method ?? "GET";
      const answer = await fetch(url, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks),
      });
      const body = Buffer.from(await answer.arrayBuffer());
      const name = `${kindOf(method, url.pathname)} ${answer.status}${answer.status >= 400 ? ` ${errorCode(body)}` : ""}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      for (const listener of onAnswer) listener(name);
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      res.end(body);
    } catch {
      // The service died mid-call (its socket is gone): what reached the simulator stays done there.
      res.destroy();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    onAnswer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
