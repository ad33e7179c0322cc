import { Writable } from 'node:stream';
import Fastify from 'fastify';
import type { RegistryRpc } from '@ocireg/contracts';
import { RegistryMetrics, createLogger } from '@ocireg/observability';
import { memoryTracer } from '@ocireg/testing';
import { traceHttp } from './http-tracing';
import { InstrumentedRpc } from './instrumented-rpc';
import { logRequests } from './request-log';

describe('traceHttp', () => {
  const { tracer, spans, reset } = memoryTracer();
  beforeEach(reset);

  async function gateway() {
    const sent: Array<Record<string, unknown>> = [];
    const inner: RegistryRpc = {
      call: (async (_subject: string, request: Record<string, unknown>) => {
        sent.push(request);
        return { found: true };
      }) as RegistryRpc['call'],
    };
    const rpc = new InstrumentedRpc(inner, new RegistryMetrics(false).rpc(), tracer, 'inprocess');
    const fastify = Fastify();
    const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    logRequests(fastify, createLogger({ level: 'info', destination: quiet }), () => 'blob');
    traceHttp(fastify, tracer, (url) => (url.startsWith('/v2/') ? 'blob' : 'other'));
    fastify.get('/v2/a/blobs/:digest', async () => rpc.call('blob.resolve', { repository: 'a', digest: 'sha256:00' } as never));
    fastify.get('/boom', async () => {
      throw new Error('boom');
    });
    await fastify.ready();
    return { fastify, sent };
  }

  it("continues the client's trace: server span, RPC span under it, and the RPC span's context in the payload", async () => {
    const { fastify, sent } = await gateway();
    const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    const response = await fastify.inject({ method: 'GET', url: '/v2/a/blobs/sha256:00?x=secret', headers: { traceparent: `00-${clientTrace}-${clientSpan}-01`, 'x-request-id': 'req-1' } });
    expect(response.statusCode).toBe(200);
    const [rpcSpan, server] = spans();
    expect(server?.name).toBe('GET blob');
    expect(server?.spanContext().traceId).toBe(clientTrace);
    expect(server?.parentSpanContext?.spanId).toBe(clientSpan);
    expect(server?.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.route': 'blob', 'url.path': '/v2/a/blobs/sha256:00', 'http.response.status_code': 200, 'ocireg.request_id': 'req-1' });
    expect(rpcSpan?.name).toBe('rpc blob.resolve');
    expect(rpcSpan?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(rpcSpan?.attributes).toEqual({ 'rpc.system': 'inprocess', 'rpc.method': 'blob.resolve' });
    expect(sent[0]).toEqual({
      repository: 'a',
      digest: 'sha256:00',
      $requestId: 'req-1',
      $trace: { traceparent: `00-${clientTrace}-${rpcSpan?.spanContext().spanId}-01` },
    });
    await fastify.close();
  });

  it('starts a new trace without a traceparent and marks 5xx answers as errors', async () => {
    const { fastify } = await gateway();
    expect((await fastify.inject({ method: 'GET', url: '/boom' })).statusCode).toBe(500);
    const [server] = spans();
    expect(server?.name).toBe('GET other');
    expect(server?.parentSpanContext).toBeUndefined();
    expect(server?.status.code).toBe(2);
    expect(server?.attributes['http.response.status_code']).toBe(500);
    await fastify.close();
  });
});
