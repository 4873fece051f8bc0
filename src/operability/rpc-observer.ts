import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../logging.js";
import { REQUEST_ID_HEADER, requestIdFrom } from "../transport/http/request-id.js";
import type { GatewayMetrics } from "./metrics.js";

/** Codes that mean the server (or a provider behind it) failed, not the caller. */
const SERVER_FAULTS = new Set([Code.Unknown, Code.Internal, Code.Unavailable, Code.DataLoss, Code.DeadlineExceeded]);

const GRPC_TYPES: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
};

/** Which of the three protocols on our port a call came in by, from its content type. */
export function protocolOf(contentType: string | null): "grpc-web" | "grpc" | "connect" {
  if (contentType?.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/**
 * Outermost interceptor: gives every RPC a request id (the caller's `x-request-id` or a new one,
 * echoed in the response headers or error metadata), counts and times it, and writes one log line
 * when it ends — for streams, when the stream ends. `tenantOf` reads the tenant the auth
 * interceptor established, after the fact.
 */
export function createObservingInterceptor(
  metrics: GatewayMetrics,
  log: Logger,
  tenantOf: (values: ContextValues) => string | undefined,
): Interceptor {
  return (next) => async (request) => {
    const requestId = requestIdFrom(request.header.get(REQUEST_ID_HEADER));
    const labels = {
      grpc_service: request.service.typeName,
      grpc_method: request.method.name,
      grpc_type: GRPC_TYPES[request.method.methodKind],
    };
    metrics.rpcStarted.inc(labels);
    const started = performance.now();
    let finished = false;
    const finish = (error: unknown) => {
      if (finished) return;
      finished = true;
      const code = error === undefined ? undefined : ConnectError.from(error).code;
      const codeName = code === undefined ? "OK" : Code[code];
      const seconds = (performance.now() - started) / 1000;
      metrics.rpcHandled.inc({ ...labels, grpc_code: codeName });
      metrics.rpcSeconds.observe(labels, seconds);
      const fields = {
        requestId,
        rpc: `${request.service.typeName}/${request.method.name}`,
        protocol: protocolOf(request.header.get("content-type")),
        tenant: tenantOf(request.contextValues),
        code: codeName,
        durationMs: Math.round(seconds * 1000),
      };
      if (code !== undefined && SERVER_FAULTS.has(code)) log.warn(fields, "rpc");
      else log.info(fields, "rpc");
    };
    try {
      const response = await next(request);
      response.header.set(REQUEST_ID_HEADER, requestId);
      if (!response.stream) {
        finish(undefined);
        return response;
      }
      return { ...response, message: observeStream(response.message, request.signal, finish) };
    } catch (error) {
      if (error instanceof ConnectError) error.metadata.set(REQUEST_ID_HEADER, requestId);
      finish(error);
      throw error;
    }
  };
}

/** Passes a response stream through and reports how it ended: error, client cancel/deadline, or OK. */
async function* observeStream<T>(
  stream: AsyncIterable<T>,
  signal: AbortSignal,
  finish: (error: unknown) => void,
): AsyncIterable<T> {
  let failure: unknown;
  try {
    yield* stream;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    // A cancelled or timed-out call ends the stream without an error of its own.
    if (failure === undefined && signal.aborted && signal.reason instanceof ConnectError) failure = signal.reason;
    finish(failure);
  }
}
