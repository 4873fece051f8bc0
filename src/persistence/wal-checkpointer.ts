import { once } from "node:events";
import { Worker } from "node:worker_threads";

/**
 * SQLite copies the write-ahead log back into the database file ("checkpoint") on the connection
 * whose commit crosses the WAL size threshold, synchronously and with an fsync. libsql runs on the
 * event loop, so that commit stalled every stream and request for tens of milliseconds (the bench's
 * 10k-subscriber delivery p99 halved without it). The service's connections therefore never
 * checkpoint (`wal_autocheckpoint = 0`) and this worker thread runs PASSIVE checkpoints on its own
 * connection instead: they never block writers or readers, and the WAL restarts from its beginning
 * once everything in it is in the database file.
 */
export interface WalCheckpointer {
  stop(): Promise<void>;
}

export function startWalCheckpointer(
  path: string,
  options: { intervalMs: number; onError: (message: string) => void },
): WalCheckpointer {
  const worker = new Worker(new URL("./wal-checkpoint-worker.mjs", import.meta.url), {
    workerData: { path, intervalMs: options.intervalMs },
  });
  worker.unref();
  worker.on("message", (message: { error?: string }) => {
    if (message.error) options.onError(message.error);
  });
  worker.on("error", (error) => options.onError(error.message));
  const exited = once(worker, "exit").then(() => undefined);
  return {
    stop() {
      worker.postMessage("stop");
      return exited;
    },
  };
}
