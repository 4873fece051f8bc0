import { styleText } from "node:util";
import { pino } from "pino";
import { NO_TRACE, traceLogFields } from "./tracing.js";

/** `json`: one JSON object per line. `pretty`: one readable line per entry, for a person at a terminal. */
export type LogFormat = "json" | "pretty";

/** Without a destination: readable on a terminal, JSON when stdout is piped or LOG_FORMAT=json. */
/** Pretty on a terminal, JSON when piped or written elsewhere (configuration may say otherwise: LOG_FORMAT). */
function formatFor(destination: NodeJS.WritableStream | undefined): LogFormat {
  if (destination !== undefined) return "json";
  return process.stdout.isTTY ? "pretty" : "json";
}

/**
 * Structured logs, JSON unless `format` is `pretty`. Secrets are redacted here, in one place,
 * whatever logs them: headers that carry keys, tokens and signatures, and any field named like a secret.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = formatFor(destination)) {
  const out = format === "pretty" ? prettyStream((destination ?? process.stdout) as NodeJS.WriteStream) : destination;
  return pino(
    {
      level,
      base: { service: "va-gateway" },
      // Lines written inside a traced request carry its traceId and spanId; the rest are left as they are.
      mixin: traceLogFields,
      mixinMergeStrategy: (fields, trace) => (trace === NO_TRACE ? fields : Object.assign(trace, fields)),
      redact: {
        paths: [
          "apiKey",
          "*.apiKey",
          "secret",
          "*.secret",
          "webhookSecret",
          "*.webhookSecret",
          "authorization",
          "*.authorization",
          "headers.authorization",
          'headers["x-signature"]',
          'headers["x-sandbox-signature"]',
          "signature",
          "*.signature",
          "token",
          "*.token",
        ],
        censor: "[redacted]",
      },
    },
    out as pino.DestinationStream | undefined,
  );
}

const LEVEL_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(pino.levels.values).map(([name, value]) => [value, name]),
);
const LEVEL_STYLES: Record<string, Parameters<typeof styleText>[0]> = {
  trace: "gray",
  debug: "gray",
  info: "green",
  warn: "yellow",
  error: "red",
  fatal: ["red", "bold"],
};
/** Fields every line has, or that the line already shows in its own place. */
const SHOWN_ELSEWHERE = new Set(["level", "time", "msg", "service", "err"]);

/**
 * Writes pino's JSON lines as `HH:MM:SS.mmm LEVEL message  key=value …` (local time), with an
 * error's stack below its line. Colours only where the terminal takes them (NO_COLOR respected).
 */
function prettyStream(target: NodeJS.WriteStream): { write(line: string): void } {
  const colours = target.hasColors?.() === true;
  const paint = (style: Parameters<typeof styleText>[0], text: string) => (colours ? styleText(style, text) : text);
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        target.write(line);
        return;
      }
      const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
      const time = new Date(entry.time as number);
      const clock = `${time.toTimeString().slice(0, 8)}.${String(time.getMilliseconds()).padStart(3, "0")}`;
      const fields = Object.entries(entry)
        .filter(([key]) => !SHOWN_ELSEWHERE.has(key))
        .map(([key, value]) => `${paint("dim", `${key}=`)}${typeof value === "string" ? value : JSON.stringify(value)}`);
      const err = entry.err as { type?: string; message?: string; stack?: string } | undefined;
      const stack = err
        ? `\n    ${(err.stack ?? `${err.type ?? "Error"}: ${err.message ?? ""}`).replaceAll("\n", "\n    ")}`
        : "";
      const head = `${paint("dim", clock)} ${paint(LEVEL_STYLES[level] ?? "white", level.toUpperCase().padEnd(5))} ${String(entry.msg ?? "")}`;
      target.write(`${[head, ...fields].join("  ")}${stack}\n`);
    },
  };
}

export type AppLogger = ReturnType<typeof createLogger>;

/**
 * The logger the layers below the wiring take: structured fields and a message at three levels.
 * `AppLogger` is one; use cases and routes depend on this, not on pino.
 */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
