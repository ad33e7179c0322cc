import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { createLogger, currentRequestId, setRequestUser } from '@ocireg/observability';
import { logRequests, pathOf } from './request-log';
import { withContext } from './instrumented-rpc';

function capture() {
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw += chunk.toString();
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines: () => raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), raw: () => raw };
}

describe('logRequests', () => {
  it('drops the query string from paths', () => {
    expect(pathOf('/auth/token?service=x&password=p')).toBe('/auth/token');
    expect(pathOf('/v2/a/b/tags/list#x')).toBe('/v2/a/b/tags/list');
    expect(pathOf('/v2/')).toBe('/v2/');
  });

  it('answers the request id, runs the handler in its context and logs one access line without secrets', async () => {
    const { logger, lines, raw } = capture();
    const fastify = Fastify();
    logRequests(fastify, logger, (url) => (url.startsWith('/auth') ? 'token' : 'other'));
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    fastify.post('/auth/token', async (request) => {
      if (request.body) for await (const _chunk of request.body as AsyncIterable<Buffer>) void _chunk;
      return { requestId: currentRequestId(), rpc: withContext({ repository: 'a/b' }) };
    });

    const given = await fastify.inject({
      method: 'POST',
      url: '/auth/token?service=reg&password=query-secret',
      headers: { 'x-request-id': 'test-id-1', authorization: 'Basic c2VjcmV0LWF1dGg=', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=password&username=alice&password=form-secret',
    });
    expect(given.statusCode).toBe(200);
    expect(given.headers['x-request-id']).toBe('test-id-1');
    expect(given.json()).toEqual({ requestId: 'test-id-1', rpc: { repository: 'a/b', $requestId: 'test-id-1' } });

    const generated = await fastify.inject({ method: 'POST', url: '/auth/token', headers: { 'x-request-id': 'bad id!' } });
    const id = generated.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.json()).toMatchObject({ requestId: id });

    const access = lines().filter((l) => l['msg'] === 'request');
    expect(access).toHaveLength(2);
    expect(access[0]).toMatchObject({
      level: 30,
      requestId: 'test-id-1',
      method: 'POST',
      kind: 'token',
      path: '/auth/token',
      status: 200,
      bytesIn: Buffer.byteLength('grant_type=password&username=alice&password=form-secret'),
      remoteAddress: '127.0.0.1',
    });
    expect(access[0]?.['bytesOut']).toBe(given.rawPayload.length);
    expect(typeof access[0]?.['durationMs']).toBe('number');
    expect(access[1]).toMatchObject({ requestId: id, bytesIn: 0 });
    for (const secret of ['query-secret', 'form-secret', 'c2VjcmV0LWF1dGg=', 'alice']) expect(raw()).not.toContain(secret);
    await fastify.close();
  });

  it('names the user the access control authenticated in the access line, also when the request is refused', async () => {
    const { logger, lines } = capture();
    const fastify = Fastify();
    logRequests(fastify, logger, () => 'other');
    fastify.get('/as/:user', async (request, reply) => {
      setRequestUser((request.params as { user: string }).user);
      return reply.status(403).send({});
    });
    fastify.get('/anonymous', async () => ({}));
    expect((await fastify.inject({ method: 'GET', url: '/as/bob' })).statusCode).toBe(403);
    expect((await fastify.inject({ method: 'GET', url: '/anonymous' })).statusCode).toBe(200);
    const access = lines().filter((l) => l['msg'] === 'request');
    expect(access[0]).toMatchObject({ path: '/as/bob', status: 403, user: 'bob' });
    expect(access[1]).toMatchObject({ path: '/anonymous', status: 200 });
    expect(access[1]).not.toHaveProperty('user');
    await fastify.close();
  });

  it('sends no request id outside a request', () => {
    expect(withContext({ repository: 'a/b' })).toEqual({ repository: 'a/b' });
  });
});
