// Runs SQLite WAL checkpoints on its own thread and connection (see wal-checkpointer.ts).
// Plain JavaScript: a worker thread gets no TypeScript loader under vitest.
import { parentPort, workerData } from "node:worker_threads";
import Database from "libsql";

const db = new Database(workerData.path);
db.exec("PRAGMA busy_timeout = 5000");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");

const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch (error) {
    parentPort?.postMessage({ error: String(error) });
  }
}, workerData.intervalMs);

parentPort?.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
