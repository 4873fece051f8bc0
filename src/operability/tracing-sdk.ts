import { context, propagation, trace } from "@opentelemetry/api";
import type { NodeSDKConfiguration } from "@opentelemetry/sdk-node";
import { ConfigError } from "../config.js";
import { setTracer } from "../tracing.js";

const TRACES_EXPORTERS = ["otlp", "console", "zipkin", "none"];
const OTLP_PROTOCOLS = ["grpc", "http/protobuf", "http/json"];

const listOf = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/**
 * Whether the standard `OTEL_*` variables ask for traces. Off unless an exporter or an OTLP endpoint
 * is named (the SDK alone would default to OTLP on localhost), and off under OTEL_SDK_DISABLED=true.
 * Values the SDK would only warn about, leaving traces silently unexported, are refused with a
 * `ConfigError`: one line naming the variable.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv): boolean {
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() || "false";
  if (disabled !== "true" && disabled !== "false") {
    throw new ConfigError(`OTEL_SDK_DISABLED must be true or false, not "${env.OTEL_SDK_DISABLED}"`);
  }
  const exporters = listOf(env.OTEL_TRACES_EXPORTER);
  const unknown = exporters.find((name) => !TRACES_EXPORTERS.includes(name));
  if (unknown !== undefined) {
    throw new ConfigError(`OTEL_TRACES_EXPORTER: unknown exporter "${unknown}" (use ${TRACES_EXPORTERS.join(", ")})`);
  }
  if (exporters.includes("none") && exporters.length > 1) {
    throw new ConfigError(`OTEL_TRACES_EXPORTER: "none" cannot be combined with other exporters`);
  }
  for (const name of ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]) {
    const protocol = env[name]?.trim();
    if (protocol && !OTLP_PROTOCOLS.includes(protocol)) {
      throw new ConfigError(`${name}: unknown protocol "${protocol}" (use ${OTLP_PROTOCOLS.join(", ")})`);
    }
  }
  const endpoints = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].filter((name) => env[name]?.trim());
  for (const name of endpoints) {
    if (!URL.canParse(env[name]?.trim() ?? "") || !/^https?:$/.test(new URL(env[name]?.trim() ?? "").protocol)) {
      throw new ConfigError(`${name} must be an http(s) URL`);
    }
  }
  if (disabled === "true") return false;
  if (exporters.length > 0) return exporters[0] !== "none";
  return endpoints.length > 0;
}

export interface RunningTracing {
  /** Exports what is still buffered and stops; the tracing helpers become pass-throughs again. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for traces only (metrics stay on `/metrics`, logs on stdout) and
 * registers it with the OpenTelemetry API, AsyncLocalStorage context manager included: from here
 * on spans started inside a request are children of its span. `spanProcessors` replaces the
 * exporters the `OTEL_*` variables would choose (tests pass an in-memory exporter). The SDK is
 * loaded here, on demand, so a gateway without tracing never loads it.
 */
export async function startTracing(spanProcessors?: NodeSDKConfiguration["spanProcessors"]): Promise<RunningTracing> {
  const { NodeSDK, resources } = await import("@opentelemetry/sdk-node");
  const sdk = new NodeSDK({
    // A default the OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES variables override.
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ "service.name": "va-gateway" })),
    spanProcessors,
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  setTracer(trace.getTracer("va-gateway"));
  return {
    async shutdown() {
      setTracer(undefined);
      await sdk.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
