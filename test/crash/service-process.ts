import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** The repository root: the service is started from there, as `npm start` would. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A port nobody listens on right now; the service is restarted on it again and again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("could not pick a free port");
  return address.port;
}

export interface ServiceStats {
  starts: number;
  kills: number;
  /** Milliseconds from "start" to the "listening" log line, per start (the downtime of a restart). */
  startupMs: number[];
  /** Log lines at level error or fatal, over every run (the first few are kept). */
  errorLines: string[];
  errorCount: number;
}

/** Every child still alive: killed if this process exits first (a timed-out test, an interrupted run). */
const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});

const TAIL_CHARS = 20_000;
const KEPT_ERROR_LINES = 20;

interface Spawned {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves when the module graph is loaded (warm spare) — at once for a cold start. */
  warm: Promise<void>;
  listening: Promise<void>;
}

/**
 * The service as a child process on a fixed port and database, killed with SIGKILL and started
 * again at will; only one instance serves at a time.
 *
 * `cold`: every start is `node --import tsx src/main.ts`. Otherwise (the default) a warm spare
 * (`test/crash/warm-main.ts`: the same process with the modules already loaded, then
 * `src/main.ts` unchanged) is prepared while the current one serves, so a restart costs the
 * database open, migrations and listen rather than seconds of module loading on a busy machine.
 */
export class ServiceProcess {
  readonly stats: ServiceStats = { starts: 0, kills: 0, startupMs: [], errorLines: [], errorCount: 0 };
  private live: Spawned | undefined;
  private spare: Spawned | undefined;
  /** The last output, for diagnostics when a start fails. */
  private tail = "";

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly cold = false,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once the next start can be quick (the warm spare has loaded its modules). */
  async spareReady(): Promise<void> {
    if (this.cold || !this.spare) return;
    const spare = this.spare;
    await Promise.race([spare.warm, spare.exited]);
  }

  /** Starts the service and resolves once it logs that it is listening; rejects if it exits first. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.live) throw new Error("service is already running");
    const spawned = this.cold ? this.spawn(false) : (this.spare ?? this.spawn(true));
    this.spare = undefined;
    this.live = spawned;
    this.stats.starts++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`service did not start within ${timeoutMs} ms:\n${this.tail}`)), timeoutMs);
    });
    const died = spawned.exited.then((code) => {
      throw new Error(`service exited (code ${code}) before listening:\n${this.tail}`);
    });
    try {
      await Promise.race([spawned.warm, timeout, died]);
      const beganAt = performance.now();
      spawned.child.stdin?.end("go\n");
      await Promise.race([spawned.listening, timeout, died]);
      this.stats.startupMs.push(Math.round(performance.now() - beganAt));
    } finally {
      clearTimeout(timer);
      died.catch(() => undefined);
    }
    if (!this.cold) this.spare = this.spawn(true);
  }

  /** `kill -9`: no shutdown hooks, no drain, whatever was in flight is cut. */
  async kill(): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.live = undefined;
    this.stats.kills++;
    live.child.kill("SIGKILL");
    await live.exited;
  }

  /** Ends the service and its spare at the end of a run. */
  async stop(): Promise<void> {
    const all = [this.live, this.spare].filter((s): s is Spawned => s !== undefined);
    this.live = undefined;
    this.spare = undefined;
    for (const spawned of all) spawned.child.kill("SIGKILL");
    await Promise.all(all.map((s) => s.exited));
  }

  private spawn(warm: boolean): Spawned {
    const entry = warm ? "test/crash/warm-main.ts" : "src/main.ts";
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: "127.0.0.1" },
      stdio: [warm ? "pipe" : "ignore", "pipe", "pipe"],
    });
    alive.add(child);
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => {
        alive.delete(child);
        resolve(code);
      }),
    );
    let onWarm: () => void = () => undefined;
    let onListening: () => void = () => undefined;
    const warmed = new Promise<void>((resolve) => {
      onWarm = resolve;
    });
    const listening = new Promise<void>((resolve) => {
      onListening = resolve;
    });
    let pending = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.tail = (this.tail + text).slice(-TAIL_CHARS);
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "warm-main: ready") onWarm();
        else this.inspect(line, onListening);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    // A spare killed before use, or the test ending, closes the pipe: nothing to report.
    child.stdin?.on("error", () => undefined);
    return { child, exited, warm: warm ? warmed : Promise.resolve(), listening };
  }

  private inspect(line: string, onListening: () => void): void {
    if (!line.startsWith("{")) return;
    let entry: { level?: number; msg?: string };
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      return;
    }
    if (entry.msg?.startsWith("va-gateway listening")) onListening();
    if ((entry.level ?? 0) >= 50) {
      this.stats.errorCount++;
      if (this.stats.errorLines.length < KEPT_ERROR_LINES) this.stats.errorLines.push(line.slice(0, 2_000));
    }
  }
}
