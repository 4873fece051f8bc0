import { type ChildProcess, spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { raisePriority } from "./system.js";

/** `Omit` that keeps a union a union (each member loses `rid`). */
export type WithoutRid<T> = T extends unknown ? Omit<T, "rid"> : never;

/** A child process running a bench/*.ts entry under tsx, spoken to over IPC with `{ rid, cmd }`. */
export class Child<Req extends { rid: number }, Rep extends { rid: number; ok: boolean; error?: string }> {
  private nextRid = 1;
  private readonly pending = new Map<number, { resolve: (r: Rep) => void; reject: (e: Error) => void }>();
  private exited = false;
  readonly ready: Promise<Rep>;

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    this.ready = new Promise<Rep>((resolve, reject) => {
      this.pending.set(0, { resolve, reject });
    });
    process.on("message", (message: Rep) => {
      const waiter = this.pending.get(message.rid);
      if (!waiter) return;
      this.pending.delete(message.rid);
      if (message.ok) waiter.resolve(message);
      else waiter.reject(new Error(`${name}: ${message.error ?? "failed"}`));
    });
    process.on("exit", (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal}) before answering`));
      }
      this.pending.clear();
    });
  }

  /** Spawns `node [execArgv] --import tsx <entry> [...args]`; stdout and stderr go to `logPath`. */
  static spawn<Req extends { rid: number }, Rep extends { rid: number; ok: boolean; error?: string }>(options: {
    name: string;
    entry: string;
    args?: string[];
    execArgv?: string[];
    env?: NodeJS.ProcessEnv;
    logPath: string;
  }): Child<Req, Rep> {
    const log = openSync(options.logPath, "a");
    const child = spawn(
      process.execPath,
      [...(options.execArgv ?? []), "--import", tsxLoader(), options.entry, ...(options.args ?? [])],
      { stdio: ["ignore", log, log, "ipc"], env: { ...process.env, ...options.env } },
    );
    raisePriority(child.pid);
    return new Child<Req, Rep>(options.name, child);
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  request(message: WithoutRid<Req>, timeoutMs = 120_000): Promise<Rep> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const rid = this.nextRid++;
    return new Promise<Rep>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new Error(`${this.name}: no answer to ${JSON.stringify(message).slice(0, 80)} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rid, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.process.send({ ...message, rid });
    });
  }

  /** Resident set size and its peak, read from /proc (the child's own memory only). */
  memory(): { rssBytes: number; peakRssBytes: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { rssBytes: kib("VmRSS"), peakRssBytes: kib("VmHWM") };
  }

  /** Waits for the child to exit; kills this child (by its pid) if it has not within `graceMs`. */
  async exit(graceMs = 8_000): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.process.kill("SIGKILL");
        resolve();
      }, graceMs);
      this.process.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  kill(): void {
    if (!this.exited) this.process.kill("SIGKILL");
  }
}

/** The tsx loader (what `node --import tsx` loads), resolved from this project so children need no PATH. */
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
}
