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

/** The metric labels and log name of one method, made once rather than per call. */
interface MethodLabels {
  labels: { grpc_service: string; grpc_method: string; grpc_type: string };
  /** `labels` plus `grpc_code`, by code name. */
  handled: Map<string, MethodLabels["labels"] & { grpc_code: string }>;
  rpc: string;
}

interface ObservedCall {
  method: MethodLabels;
  requestId: string;
  started: number;
  header: Headers;
  contextValues: ContextValues;
  finished: boolean;
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
  const methods = new Map<DescMethod, MethodLabels>();
  const labelsOf = (method: DescMethod): MethodLabels => {
    let known = methods.get(method);
    if (known === undefined) {
      const labels = { grpc_service: method.parent.typeName, grpc_method: method.name, grpc_type: GRPC_TYPES[method.methodKind] };
      known = { labels, handled: new Map(), rpc: `${method.parent.typeName}/${method.name}` };
      methods.set(method, known);
    }
    return known;
  };
  const finish = (call: ObservedCall, error: unknown) => {
    if (call.finished) return;
    call.finished = true;
    const code = error === undefined ? undefined : ConnectError.from(error).code;
    const codeName = code === undefined ? "OK" : Code[code];
    const seconds = (performance.now() - call.started) / 1000;
    const { labels, handled, rpc } = call.method;
    let handledLabels = handled.get(codeName);
    if (handledLabels === undefined) {
      handledLabels = { ...labels, grpc_code: codeName };
      handled.set(codeName, handledLabels);
    }
    metrics.rpcHandled.inc(handledLabels);
    metrics.rpcSeconds.observe(labels, seconds);
    const fields = {
      requestId: call.requestId,
      rpc,
      protocol: protocolOf(call.header.get("content-type")),
      tenant: tenantOf(call.contextValues),
      code: codeName,
      durationMs: Math.round(seconds * 1000),
    };
    if (code !== undefined && SERVER_FAULTS.has(code)) log.warn(fields, "rpc");
    else log.info(fields, "rpc");
  };
  return (next) => async (request) => {
    const call: ObservedCall = {
      method: labelsOf(request.method),
      requestId: requestIdFrom(request.header.get(REQUEST_ID_HEADER)),
      started: performance.now(),
      header: request.header,
      contextValues: request.contextValues,
      finished: false,
    };
    metrics.rpcStarted.inc(call.method.labels);
    try {
      const response = await next(request);
      response.header.set(REQUEST_ID_HEADER, call.requestId);
      if (!response.stream) {
        finish(call, undefined);
        return response;
      }
      return { ...response, message: observeStream(response.message, request.signal, (error) => finish(call, error)) };
    } catch (error) {
      if (error instanceof ConnectError) error.metadata.set(REQUEST_ID_HEADER, call.requestId);
      finish(call, error);
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
