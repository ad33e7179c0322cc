import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Logger, type RequestContext, requestIdFrom, runInRequestContext, secondsSince, unredactedChild } from '@ocireg/observability';
import { declaresBody, isReadable, tapBytes } from './byte-taps';

export const REQUEST_ID_HEADER = 'x-request-id';

interface Tracked {
  context: RequestContext;
  start: bigint;
  bytesIn: number;
  bytesOut: number;
}

const tracked = new WeakMap<FastifyRequest, Tracked>();

/** The path of a URL without its query string (which may carry credentials, e.g. on the token endpoint). */
export function pathOf(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/**
 * Gives every gateway request an id (the client's sane `X-Request-Id`, else a new UUID), answers it in
 * `X-Request-Id`, and runs the request's hooks and handler in a context that carries it, so that every log
 * line and every request to the services made on its behalf carries it too. When the response is done, one
 * access-log line (with the authenticated user, when the access control named one): never a header's value
 * nor the query string.
 */
export function logRequests(fastify: FastifyInstance, logger: Logger, kindOf: (url: string) => string): void {
  // The access line is made of chosen fields only (accessLine): no redaction pass needed.
  const access = unredactedChild(logger);
  fastify.addHook('onRequest', (request, reply, done) => {
    const context = { requestId: requestIdFrom(request.headers[REQUEST_ID_HEADER]) };
    tracked.set(request, { context, start: process.hrtime.bigint(), bytesIn: 0, bytesOut: 0 });
    reply.header('X-Request-Id', context.requestId);
    runInRequestContext(context, done);
  });

  // Again right before the handler: body parsing may have run in another async context.
  fastify.addHook('preHandler', (request, _reply, done) => {
    const seen = tracked.get(request);
    if (!seen) return done();
    runInRequestContext(seen.context, done);
  });

  // Bytes are counted as they pass, without buffering anything. Callback hooks, as above: an async hook costs
  // every request a promise and a trip through the microtask queue.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const seen = tracked.get(request);
    if (!seen || !declaresBody(request)) return done(null, payload);
    done(null, tapBytes(request, payload, (bytes) => (seen.bytesIn += bytes)));
  });

  fastify.addHook('onSend', (request, reply, payload, done) => {
    const seen = tracked.get(request);
    if (!seen) return done(null, payload);
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      seen.bytesOut += Buffer.byteLength(payload);
      return done(null, payload);
    }
    if (isReadable(payload)) return done(null, tapBytes(reply, payload, (bytes) => (seen.bytesOut += bytes)));
    done(null, payload);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const seen = tracked.get(request);
    if (seen) access.info(accessLine(request, reply, seen, kindOf), 'request');
    done();
  });
}

function accessLine(request: FastifyRequest, reply: FastifyReply, seen: Tracked, kindOf: (url: string) => string): Record<string, unknown> {
  return {
    requestId: seen.context.requestId,
    method: request.method,
    kind: kindOf(request.url),
    path: pathOf(request.url),
    status: reply.statusCode,
    durationMs: Math.round(secondsSince(seen.start) * 1e6) / 1e3,
    bytesIn: seen.bytesIn,
    bytesOut: seen.bytesOut,
    remoteAddress: request.ip,
    ...(seen.context.user !== undefined ? { user: seen.context.user } : {}),
  };
}
