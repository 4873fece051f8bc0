import { pino } from "pino";
import { NO_TRACE, traceLogFields } from "./operability/tracing.js";

/**
 * Structured JSON logs. Secrets are redacted here, in one place, whatever logs them: headers that
 * carry keys, tokens and signatures, and any field named like a secret.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream) {
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
    destination as pino.DestinationStream | undefined,
  );
}

export type AppLogger = ReturnType<typeof createLogger>;
