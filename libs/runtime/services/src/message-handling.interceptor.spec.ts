import { Writable } from 'node:stream';
import { Controller } from '@nestjs/common';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RegistryError } from '@ocireg/errors';
import type { SqlClient } from '@ocireg/metadata';
import { RegistryMetrics, createLogger, currentRequestId } from '@ocireg/observability';
import { memoryTracer } from '@ocireg/testing';
import { InstrumentedSqlClient } from './instrumented-sql';
import { defer, lastValueFrom, of, throwError } from 'rxjs';
import { MessageHandlingInterceptor } from './message-handling.interceptor';

@Controller()
class Handlers {
  @MessagePattern('blob.resolve')
  resolve(): void {
    return undefined;
  }
}

function contextFor(data: unknown): ExecutionContext {
  return { getType: () => 'rpc', getHandler: () => Handlers.prototype.resolve, switchToRpc: () => ({ getData: () => data }) } as unknown as ExecutionContext;
}

describe('MessageHandlingInterceptor', () => {
  it('takes the request id out of the payload, handles the message in its context and logs it at debug level', async () => {
    let raw = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        raw += chunk.toString();
        callback();
      },
    });
    const interceptor = new MessageHandlingInterceptor(createLogger({ level: 'debug', destination }), new RegistryMetrics(false).messages());
    const payload: Record<string, unknown> = { repository: 'a/b', $requestId: 'req-7' };
    const seen: CallHandler = { handle: () => defer(async () => ({ id: currentRequestId(), payload: { ...payload } })) };
    await expect(lastValueFrom(interceptor.intercept(contextFor(payload), seen))).resolves.toEqual({ id: 'req-7', payload: { repository: 'a/b' } });
    const failing: CallHandler = { handle: () => throwError(() => new RegistryError('BLOB_UNKNOWN')) };
    await expect(lastValueFrom(interceptor.intercept(contextFor({ repository: 'a/b' }), failing))).rejects.toBeInstanceOf(RegistryError);
    await expect(lastValueFrom(interceptor.intercept(contextFor({}), { handle: () => of(currentRequestId()) }))).resolves.toBeUndefined();
    const lines = raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ level: 20, msg: 'message handled', requestId: 'req-7', subject: 'blob.resolve', outcome: 'ok' });
    expect(lines[1]).toMatchObject({ msg: 'message handled', subject: 'blob.resolve', outcome: 'BLOB_UNKNOWN' });
    expect(lines[1]).not.toHaveProperty('requestId');
  });

  it('handles a message carrying trace context in a server span, parent of the spans below it', async () => {
    const { tracer, spans, reset } = memoryTracer();
    reset();
    const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const interceptor = new MessageHandlingInterceptor(createLogger({ level: 'info', destination: quiet }), new RegistryMetrics(false).messages(), tracer);
    const fake: SqlClient = { query: async () => ({ rows: [], rowCount: 0 }) as never, transaction: async (fn) => fn(fake), close: async () => undefined };
    const sql = new InstrumentedSqlClient(fake, new RegistryMetrics(false).database(), tracer, 'postgresql');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const payload: Record<string, unknown> = { repository: 'a/b', $requestId: 'req-9', $trace: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } };
    const handler: CallHandler = { handle: () => defer(async () => sql.query('SELECT 1 FROM blobs WHERE digest = $1', ['sha256:00'])) };
    await lastValueFrom(interceptor.intercept(contextFor(payload), handler));
    expect(payload).toEqual({ repository: 'a/b' });
    const [query, handled] = spans();
    expect(handled).toMatchObject({ name: 'handle blob.resolve', kind: 1, attributes: { 'rpc.method': 'blob.resolve', 'ocireg.request_id': 'req-9', 'ocireg.outcome': 'ok' } });
    expect(handled?.spanContext().traceId).toBe(traceId);
    expect(handled?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(query).toMatchObject({ name: 'db select', kind: 2, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'select', 'db.query.text': 'SELECT 1 FROM blobs WHERE digest = $1' } });
    expect(query?.parentSpanContext?.spanId).toBe(handled?.spanContext().spanId);

    // Outside any trace (no $trace), no span at all.
    await lastValueFrom(interceptor.intercept(contextFor({ repository: 'a/b' }), handler));
    expect(spans()).toHaveLength(2);
  });

  it('counts handled messages by subject and outcome, and times them', async () => {
    const metrics = new RegistryMetrics(false);
    const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const interceptor = new MessageHandlingInterceptor(createLogger({ level: 'info', destination: quiet }), metrics.messages());
    const ok: CallHandler = { handle: () => of({ size: 1 }) };
    const unknown: CallHandler = { handle: () => throwError(() => new RegistryError('BLOB_UNKNOWN')) };
    await expect(lastValueFrom(interceptor.intercept(contextFor({ $requestId: 'req-1' }), ok))).resolves.toEqual({ size: 1 });
    await expect(lastValueFrom(interceptor.intercept(contextFor({}), unknown))).rejects.toBeInstanceOf(RegistryError);
    const text = await metrics.text();
    expect(text).toContain('ocireg_messages_handled_total{subject="blob.resolve",outcome="ok"} 1');
    expect(text).toContain('ocireg_messages_handled_total{subject="blob.resolve",outcome="BLOB_UNKNOWN"} 1');
    expect(text).toContain('ocireg_message_handling_duration_seconds_count{subject="blob.resolve"} 2');
  });
});
