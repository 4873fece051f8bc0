import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";

export { SpanKind };

/**
 * The tracer while an OpenTelemetry SDK runs (`startTracing` in operability/tracing-sdk.ts sets it). Until then
 * every helper here is a pass-through that costs a comparison: no span, no context lookup, and no
 * AsyncLocalStorage (whose promise hooks tax every promise of the process; see `Store.transaction`).
 */
let tracer: Tracer | undefined;

export function setTracer(next: Tracer | undefined): void {
  tracer = next;
}

/** True while an SDK runs: lets callers skip building span names and attributes otherwise. */
export const tracingOn = (): boolean => tracer !== undefined;

export interface SpanStart {
  kind: SpanKind;
  attributes?: Attributes;
  /** The caller's trace (`continueTrace`); by default the span of the work in progress. */
  parent?: Context | undefined;
}

/** A started span and the context that makes it the parent of whatever runs inside it. */
export interface StartedSpan {
  span: Span;
  context: Context;
}

/** Starts a span, or answers undefined when tracing is off. End it with `endSpan`. */
export function startSpan(name: string, start: SpanStart): StartedSpan | undefined {
  if (!tracer) return undefined;
  const parent = start.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: start.kind, attributes: start.attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs `work` with `started` as the current span (the parent of spans begun inside and of log lines). */
export function runInSpan<T>(started: StartedSpan | undefined, work: () => T): T {
  return started ? context.with(started.context, work) : work();
}

/** Marks the span failed when `error` is given, then ends it. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
  }
  span.end();
}

/**
 * Runs `work` in a span of its own, ended when the work settles (failed if it throws). Without
 * tracing it is a plain call of `work(undefined)`.
 */
export function inSpan<T>(name: string, start: SpanStart, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  const started = startSpan(name, start);
  if (!started) return work(undefined);
  return context.with(started.context, async () => {
    try {
      const result = await work(started.span);
      started.span.end();
      return result;
    } catch (error) {
      endSpan(started.span, error);
      throw error;
    }
  });
}

/** The caller's trace from W3C `traceparent`/`tracestate` headers (or whatever OTEL_PROPAGATORS names). */
export function continueTrace<C>(carrier: C, getter: TextMapGetter<C> = defaultTextMapGetter): Context | undefined {
  if (!tracer) return undefined;
  return propagation.extract(ROOT_CONTEXT, carrier, getter);
}

/** Adds the current trace's headers (`traceparent`, …) to an outgoing request's headers. */
export function injectTraceContext(headers: Record<string, string>): void {
  if (tracer) propagation.inject(context.active(), headers, defaultTextMapSetter);
}

/** Returned when no span is in progress; the logger's merge strategy recognises it and adds nothing. */
export const NO_TRACE: Readonly<Record<string, never>> = Object.freeze({});

/** `traceId` and `spanId` of the span in progress, for every log line written inside it. */
export function traceLogFields(): Record<string, string> {
  if (!tracer) return NO_TRACE;
  const spanContext = trace.getSpanContext(context.active());
  if (!spanContext) return NO_TRACE;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}
