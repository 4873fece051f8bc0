import { readdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Scheduling priority (nice) of every bench process: servers, load generators, subscribers, h2load.
 * Raised where allowed (root) so that other work on a shared machine disturbs the figures less;
 * PostgreSQL keeps its own priority.
 */
export const BENCH_NICE = -10;

/** Applies BENCH_NICE to a process; false when not allowed (then the figures are noisier). */
export function raisePriority(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    setPriority(pid, BENCH_NICE);
    return true;
  } catch {
    return false;
  }
}

/** CPU time (utime + stime, all threads) of a process in ms; 0 if it is gone. Linux /proc only. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[11] = utime, fields[12] = stime (in clock ticks; 100 per second on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU ms per pid of every process named `comm` (e.g. all PostgreSQL backends). */
export function cpuMsByPidOfCommand(comm: string): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== comm) continue;
      byPid.set(Number(entry), processCpuMs(Number(entry)));
    } catch {
      // the process ended meanwhile
    }
  }
  return byPid;
}

/** Busy CPU time of the whole machine (all processes, all CPUs) in ms, from /proc/stat. */
export function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / 100;
}

/** Snapshots CPU time of some processes (and optionally every `postgres` process) over a window. */
export class CpuWindow {
  private startMs = 0;
  private endMs = 0;
  private cpuStart: number[] = [];
  private cpuEnd: number[] = [];
  private dbStart = new Map<number, number>();
  private dbEnd = new Map<number, number>();
  private machineStart = 0;
  private machineEnd = 0;
  /** CLOCK_MONOTONIC µs (the clock of V8 CPU profile timestamps) at the window's start and end. */
  monotonicStartUs = 0;
  monotonicEndUs = 0;

  constructor(
    private readonly pids: number[],
    private readonly withDatabase: boolean,
  ) {}

  mark(phase: "start" | "end"): void {
    const cpu = this.pids.map(processCpuMs);
    const db = this.withDatabase ? cpuMsByPidOfCommand("postgres") : new Map<number, number>();
    const monotonicUs = Number(process.hrtime.bigint() / 1000n);
    const machine = machineBusyMs();
    if (phase === "start") {
      this.monotonicStartUs = monotonicUs;
      this.startMs = performance.now();
      this.cpuStart = cpu;
      this.machineStart = machine;
      this.dbStart = db;
    } else {
      this.monotonicEndUs = monotonicUs;
      this.endMs = performance.now();
      this.cpuEnd = cpu;
      this.machineEnd = machine;
      this.dbEnd = db;
    }
  }

  /**
   * Server CPU ms used in the window (sum over the pids), database CPU ms, the whole machine's busy
   * CPU ms (load generators, database and anything else running), and the window's wall ms.
   */
  result(): { serverCpuMs: number; dbCpuMs: number | undefined; machineBusyMs: number; wallMs: number } {
    const serverCpuMs = this.cpuEnd.reduce((sum, v, i) => sum + v - (this.cpuStart[i] ?? v), 0);
    return {
      serverCpuMs,
      machineBusyMs: this.machineEnd - this.machineStart,
      // Backends that ended inside the window are missed; ones started inside it count in full.
      dbCpuMs: this.withDatabase
        ? [...this.dbEnd.entries()].reduce((sum, [pid, ms]) => sum + ms - (this.dbStart.get(pid) ?? 0), 0)
        : undefined,
      wallMs: this.endMs - this.startMs,
    };
  }
}
