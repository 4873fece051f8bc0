/**
 * Aggregates a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by package
 * (node_modules package, Node core module, project folder, GC, idle), and inclusive time by function.
 *
 *   npx tsx bench/profile-summary.ts artifacts/profiles/inquiry-grpc.cpuprofile [--top 25]
 *
 * Self time = the sum of the sampling intervals (timeDeltas) of samples whose top frame is that
 * function. Percentages are of the busy time (all samples except `(idle)`), so a profile taken
 * while the process waited for load is not diluted.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Row {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  window: { fromUs: number; toUs: number } | undefined;
  wallMs: number;
  busyMs: number;
  idleMs: number;
  byPackage: Row[];
  bySelf: Row[];
  byInclusive: Row[];
}

/** Where a frame's code lives: `pkg:@scope/name`, `node:http2`, `src/transport`, `(garbage collector)`, … */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName.startsWith("(")) return functionName;
    return "(native / V8 builtins)";
  }
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const [first, second] = url.slice(nm + "/node_modules/".length).split("/");
    return `pkg:${first?.startsWith("@") ? `${first}/${second}` : first}`;
  }
  if (url.startsWith("node:")) {
    const parts = url.slice(5).split("/");
    if (parts[0] === "internal") {
      const name = parts[1] ?? "internal";
      return `node:${name.replace(/\.js$/, "")}`;
    }
    return `node:${(parts[0] ?? "").replace(/\.js$/, "")}`;
  }
  const src = /\/(src|bench|test)\/(?:([^/]+)\/)?[^/]+$/.exec(url);
  if (src) return `project:${src[1]}${src[2] ? `/${src[2]}` : ""}`;
  return url.replace(/^file:\/\//, "");
}

function frameName(frame: CallFrame): string {
  const fn = frame.functionName || "(anonymous)";
  if (frame.url === "") return fn;
  const short = frame.url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\//, "")
    .replace(/^.*\/(src|bench|test)\//, "$1/");
  return `${fn} ${short}:${frame.lineNumber + 1}`;
}

/**
 * `window` (CLOCK_MONOTONIC µs, the clock of the profile's timestamps on Linux, as
 * `process.hrtime.bigint() / 1000n` reads it in any process) keeps only the samples taken in it,
 * e.g. the load's measurement phase without start-up and warm-up.
 */
export function summarizeProfile(file: string, top = 25, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const packages = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  // timeDeltas[i] is the time since the previous sample; attribute it to sample i.
  let timestamp = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    timestamp += profile.timeDeltas[i] ?? 0;
    if (window && (timestamp < window.fromUs || timestamp > window.toUs)) return;
    const node = byId.get(id);
    if (!node) return;
    totalUs += delta;
    if (node.callFrame.functionName === "(idle)") {
      idleUs += delta;
      return;
    }
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + delta);
    const pkg = packageOf(node.callFrame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + delta);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.functionName === "(root)") continue;
      const key = frameName(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
    }
  });
  const busyUs = totalUs - idleUs;
  const rows = (map: Map<string, number>, limit: number): Row[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, percent: Math.round((1000 * us) / busyUs) / 10 }));
  return {
    file,
    window,
    wallMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    byPackage: rows(packages, 30),
    bySelf: rows(self, top),
    byInclusive: rows(inclusive, top),
  };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const table = (title: string, rows: Row[]) =>
    [`${title}`, ...rows.map((r) => `  ${r.percent.toFixed(1).padStart(5)}%  ${String(r.ms).padStart(8)} ms  ${r.name}`)].join(
      "\n",
    );
  return [
    `profile ${summary.file}${summary.window ? ` (samples in ${summary.window.fromUs}-${summary.window.toUs} µs only)` : ""}: ${summary.wallMs} ms sampled, ${summary.busyMs} ms busy, ${summary.idleMs} ms idle (percentages are of busy time)`,
    table("self time by package / area:", summary.byPackage),
    table("self time by function:", summary.bySelf),
    table("inclusive time by function (each sample counted once per function):", summary.byInclusive),
  ].join("\n\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--window FROM_US-TO_US]");
    process.exit(2);
  }
  const option = (name: string) => {
    const index = process.argv.indexOf(name);
    return index > 0 ? process.argv[index + 1] : undefined;
  };
  const top = Number(option("--top") ?? 25);
  const [fromUs, toUs] = (option("--window") ?? "").split("-").map(Number);
  const window = fromUs && toUs ? { fromUs, toUs } : undefined;
  console.log(formatProfileSummary(summarizeProfile(file, top, window)));
}
