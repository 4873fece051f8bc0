import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { type Context, context, type Span, SpanStatusCode, type TextMapGetter } from "@opentelemetry/api";
import { continueTrace, runInSpan, SpanKind, startSpan, tracingOn } from "../tracing.js";
import { protocolOf } from "./rpc-observer.js";

const headersGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** Codes that mark a server span failed (OpenTelemetry's RPC conventions); the rest are the caller's doing. */
const SERVER_ERRORS = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

/**
 * One server span per RPC, continuing the caller's `traceparent` (Connect, gRPC and gRPC-Web all
 * carry it as a header). The call runs with the span current, so database transactions, provider
 * calls and log lines inside it join the trace; for a response stream each step of the stream runs
 * so too, and the span ends when the stream does. Put it outside every other interceptor: its
 * status is the code the caller finally gets.
 */
export function createTracingInterceptor(): Interceptor {
  return (next) => async (request) => {
    if (!tracingOn()) return next(request);
    const protocol = protocolOf(request.header.get("content-type"));
    const started = startSpan(`${request.service.typeName}/${request.method.name}`, {
      kind: SpanKind.SERVER,
      parent: continueTrace(request.header, headersGetter),
      attributes: {
        "rpc.system": protocol === "connect" ? "connect_rpc" : "grpc",
        "rpc.service": request.service.typeName,
        "rpc.method": request.method.name,
      },
    });
    if (!started) return next(request);
    const finish = (error: unknown) => endRpcSpan(started.span, protocol, error);
    try {
      const response = await runInSpan(started, () => next(request));
      if (!response.stream) {
        finish(undefined);
        return response;
      }
      return { ...response, message: traceStream(response.message, started.context, request.signal, finish) };
    } catch (error) {
      finish(error);
      throw error;
    }
  };
}

function endRpcSpan(span: Span, protocol: ReturnType<typeof protocolOf>, error: unknown): void {
  const code = error === undefined ? undefined : ConnectError.from(error).code;
  if (protocol === "connect") {
    if (code !== undefined) span.setAttribute("rpc.connect_rpc.error_code", codeToString(code));
  } else {
    span.setAttribute("rpc.grpc.status_code", code ?? 0);
  }
  if (code !== undefined && SERVER_ERRORS.has(code)) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: codeToString(code) });
  }
  span.end();
}

/**
 * Passes a response stream through, pulling each message with the RPC's span current: the
 * handler's generator body runs inside those pulls, not inside the interceptor call that made it.
 */
async function* traceStream<T>(
  stream: AsyncIterable<T>,
  spanContext: Context,
  signal: AbortSignal,
  finish: (error: unknown) => void,
): AsyncIterable<T> {
  const iterator = stream[Symbol.asyncIterator]();
  let done = false;
  let failure: unknown;
  try {
    for (;;) {
      const step = await context.with(spanContext, () => iterator.next());
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } catch (error) {
    done = true;
    failure = error;
    throw error;
  } finally {
    // Stopped early (client gone): close the inner stream too, still inside the span.
    if (!done) await context.with(spanContext, async () => iterator.return?.());
    // A cancelled or timed-out call ends the stream without an error of its own.
    if (failure === undefined && signal.aborted && signal.reason instanceof ConnectError) failure = signal.reason;
    finish(failure);
  }
}
