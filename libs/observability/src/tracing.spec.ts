import { SpanKind, context, trace } from '@opentelemetry/api';
import { memoryTracer } from '@ocireg/testing';
import { TRACE_FIELD, Tracing, currentTraceHeaders, inSpan, isFailure, runInTraceContext, takeTraceContext } from './tracing';

describe('tracing', () => {
  const { tracer, spans, reset } = memoryTracer();
  beforeEach(reset);

  it('is off, with no tracer, without an endpoint', () => {
    const tracing = Tracing.off();
    expect(tracing.enabled).toBe(false);
    expect(tracing.tracer).toBeUndefined();
    expect(Tracing.start({ serviceName: 'x', sampleRatio: 1 }).tracer).toBeUndefined();
  });

  it('makes child spans only inside a trace, and records failures but not client mistakes', async () => {
    await expect(inSpan(tracer, 'outside', SpanKind.CLIENT, {}, async (span) => span)).resolves.toBeUndefined();
    expect(spans()).toHaveLength(0);

    await tracer.startActiveSpan('request', async (root) => {
      await inSpan(tracer, 'db select', SpanKind.CLIENT, { 'db.operation.name': 'select' }, async () => 1);
      await expect(inSpan(tracer, 'storage read', SpanKind.CLIENT, {}, async () => Promise.reject(new Error('disk on fire')))).rejects.toThrow('disk on fire');
      const mistake = Object.assign(new Error('blob unknown'), { kind: 'BLOB_UNKNOWN', httpStatus: 404 });
      await expect(inSpan(tracer, 'rpc blob.resolve', SpanKind.CLIENT, {}, async () => Promise.reject(mistake))).rejects.toBe(mistake);
      root.end();
    });
    const [select, read, resolve, root] = spans();
    expect(root?.name).toBe('request');
    for (const child of [select, read, resolve]) {
      expect(child?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
      expect(child?.spanContext().traceId).toBe(root?.spanContext().traceId);
    }
    expect(select?.attributes).toEqual({ 'db.operation.name': 'select' });
    expect(read?.status).toEqual({ code: 2, message: 'disk on fire' });
    expect(read?.events.map((e) => e.name)).toEqual(['exception']);
    expect(resolve?.status.code).toBe(0);
    expect(resolve?.attributes['ocireg.error']).toBe('BLOB_UNKNOWN');
    expect(isFailure(new Error('x'))).toBe(true);
    expect(isFailure(Object.assign(new Error('x'), { httpStatus: 503 }))).toBe(true);
  });

  it('carries the active span across a message payload as W3C trace context', () => {
    expect(currentTraceHeaders()).toBeUndefined();
    const sender = tracer.startSpan('rpc manifest.put');
    const headers = runInTraceContext(trace.setSpan(context.active(), sender), () => currentTraceHeaders());
    sender.end();
    const { traceId, spanId } = sender.spanContext();
    expect(headers).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });

    const payload: Record<string, unknown> = { repository: 'a/b', [TRACE_FIELD]: headers };
    const received = takeTraceContext(payload);
    expect(payload).toEqual({ repository: 'a/b' });
    expect(received && trace.getSpanContext(received)).toMatchObject({ traceId, spanId, isRemote: true });

    expect(takeTraceContext({ [TRACE_FIELD]: 'junk' })).toBeUndefined();
    const bad = takeTraceContext({ [TRACE_FIELD]: { traceparent: 'not-a-traceparent' } });
    expect(bad && trace.getSpanContext(bad)).toBeUndefined();
    expect(takeTraceContext({ repository: 'a/b' })).toBeUndefined();
  });
});
