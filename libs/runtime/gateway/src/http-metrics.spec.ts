import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Fastify, { FastifyInstance, FastifyRequest } from 'fastify';
import { RegistryMetrics } from '@ocireg/observability';
import { routeKindOf } from '@ocireg/gateway-feature';
import { instrumentHttp } from './http-metrics';

const bodyOf = (request: FastifyRequest): Readable => (request.body instanceof Readable ? request.body : request.raw);

describe('instrumentHttp', () => {
  let fastify: FastifyInstance;
  let metrics: RegistryMetrics;
  let base: string;
  let gaugeDuringUpload = -1;

  beforeAll(async () => {
    metrics = new RegistryMetrics(false);
    fastify = Fastify();
    // As the gateway: bodies are streams, never buffered.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    instrumentHttp(fastify, metrics.http(), routeKindOf);
    fastify.patch('/v2/*', async (request, reply) => {
      gaugeDuringUpload = (await metrics.http().uploadsInProgress.get()).values[0]?.value ?? -1;
      let received = 0;
      await pipeline(bodyOf(request), new Writable({ write: (chunk: Buffer, _e, cb) => ((received += chunk.length), cb()) }));
      return reply.status(202).send(String(received));
    });
    fastify.get('/v2/*', async (_request, reply) => reply.send(Readable.from([Buffer.alloc(1000), Buffer.alloc(24)])));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const address = fastify.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(() => fastify.close());

  it('counts requests by route kind (never the path), body bytes both ways, and uploads in progress', async () => {
    const upload = await fetch(`${base}/v2/team/app/blobs/uploads/0123456789abcdef`, { method: 'PATCH', body: Buffer.alloc(5000, 1) });
    expect(upload.status).toBe(202);
    expect(await upload.text()).toBe('5000');
    const blob = await fetch(`${base}/v2/team/app/blobs/sha256:${'a'.repeat(64)}`);
    expect((await blob.arrayBuffer()).byteLength).toBe(1024);
    await fetch(`${base}/v2/_catalog`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const text = await metrics.text();
    expect(gaugeDuringUpload).toBe(1);
    expect(text).toContain('ocireg_uploads_in_progress 0');
    expect(text).toContain('ocireg_http_requests_total{kind="upload",method="PATCH",status="202"} 1');
    expect(text).toContain('ocireg_http_requests_total{kind="blob",method="GET",status="200"} 1');
    expect(text).toContain('ocireg_http_requests_total{kind="catalog",method="GET",status="200"} 1');
    expect(text).toContain('ocireg_http_request_duration_seconds_count{kind="blob",method="GET",status="200"} 1');
    expect(text).toContain('ocireg_http_request_bytes_total{kind="upload"} 5000');
    expect(text).toContain('ocireg_http_response_bytes_total{kind="blob"} 1024');
    expect(text).not.toContain('team/app');
  });
});
