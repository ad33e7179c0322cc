import { hostname } from 'node:os';
import { type Attributes, type Context, type Span, SpanKind, SpanStatusCode, type Tracer, context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export { SpanKind } from '@opentelemetry/api';
export type { Tracer, Span, Attributes } from '@opentelemetry/api';

export interface TracingOptions {
  /** The process's name: the spans' `service.name` (`ocireg-gateway`, `ocireg-upload-service`, ...). */
  serviceName: string;
  /** OTLP/HTTP traces endpoint (…/v1/traces); tracing is off without one. */
  endpoint?: string;
  /** Share of new traces recorded (a request arriving with a sampled `traceparent` is always recorded). */
  sampleRatio: number;
  /** How long finished spans may wait before export. */
  exportDelayMs?: number;
}

/**
 * The process's tracing: OpenTelemetry spans exported over OTLP/HTTP in batches when an endpoint is
 * configured, and nothing at all otherwise (no provider, no tracer: the instrumented code skips its spans).
 * Context travels with W3C Trace Context (`traceparent`): in HTTP headers into the gateway, and in the
 * `$trace` field of NATS payloads into the services.
 */
export class Tracing {
  private constructor(
    /** The tracer to start spans with; undefined when tracing is off. */
    readonly tracer: Tracer | undefined,
    private readonly provider: NodeTracerProvider | undefined,
  ) {}

  static off(): Tracing {
    return new Tracing(undefined, undefined);
  }

  static start(options: TracingOptions): Tracing {
    if (!options.endpoint) return Tracing.off();
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({
        'service.name': options.serviceName,
        'service.namespace': 'ocireg',
        'service.instance.id': `${hostname()}-${process.pid}`,
      }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: options.endpoint }), {
          scheduledDelayMillis: options.exportDelayMs ?? 1000,
          maxQueueSize: 8192,
          maxExportBatchSize: 512,
        }),
      ],
    });
    // Installs the AsyncLocalStorage context manager and the W3C propagator process-wide.
    provider.register();
    return new Tracing(provider.getTracer('ocireg'), provider);
  }

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  /** Exports what is still buffered, then stops. */
  async shutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}

/**
 * Runs `fn` in a new span, a child of the active one, and ends it when `fn` settles, recording a failure as
 * the span's error. Without a tracer, or outside any trace (a readiness probe's query, a periodic purge),
 * just runs `fn`: dependencies' spans only ever hang under a request's.
 */
export function inSpan<T>(tracer: Tracer | undefined, name: string, kind: SpanKind, attributes: Attributes, fn: (span?: Span) => Promise<T>): Promise<T> {
  if (!tracer || !trace.getActiveSpan()) return fn();
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      if (isFailure(error)) failSpan(span, error);
      else span.setAttribute('ocireg.error', errorCode(error));
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Whether an error is a failure of ours: anything but an answer to the client's mistake (an HTTP status below 500). */
export function isFailure(error: unknown): boolean {
  const status = (error as { httpStatus?: unknown } | null)?.httpStatus;
  return !(typeof status === 'number' && status < 500);
}

function errorCode(error: unknown): string {
  const kind = (error as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? kind : 'error';
}

/** Marks a span failed by `error` (an exception event and an ERROR status). */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** The payload field that carries the trace context from the gateway to the services (not part of any contract). */
export const TRACE_FIELD = '$trace';

/** W3C Trace Context headers (`traceparent`, `tracestate`) of the active span, if one is recording. */
export function currentTraceHeaders(): Record<string, string> | undefined {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'] ? carrier : undefined;
}

/** The context described by W3C Trace Context headers (HTTP headers, or what `$trace` carried). */
export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers, {
    keys: (carrier) => Object.keys(carrier),
    get: (carrier, key) => carrier[key],
  });
}

/** Takes the trace context out of a message payload (in place), if it carries one. */
export function takeTraceContext(payload: unknown): Context | undefined {
  if (typeof payload !== 'object' || payload === null || !(TRACE_FIELD in payload)) return undefined;
  const record = payload as Record<string, unknown>;
  const value = record[TRACE_FIELD];
  delete record[TRACE_FIELD];
  if (typeof value !== 'object' || value === null) return undefined;
  const headers: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const header = (value as Record<string, unknown>)[key];
    if (typeof header === 'string' && header.length <= 512) headers[key] = header;
  }
  return headers['traceparent'] ? contextFromHeaders(headers) : undefined;
}

/** Runs `fn` in `ctx` (the OpenTelemetry context: the active span and what propagates with it). */
export function runInTraceContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** The active context with `span` as its active span. */
export function contextWithSpan(span: Span, parent: Context = context.active()): Context {
  return trace.setSpan(parent, span);
}

/** Whether a span is active (we are inside a trace). */
export function hasActiveSpan(): boolean {
  return trace.getActiveSpan() !== undefined;
}

/** Trace and span ids of the active span, for log lines, when one is recording. */
export function currentTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

export { SpanStatusCode };
