import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Span, SpanKind, SpanStatusCode, type Tracer, contextFromHeaders, contextWithSpan, currentRequestId, runInTraceContext } from '@ocireg/observability';
import { pathOf } from './request-log';

interface Traced {
  span: Span;
  ended: boolean;
}

const traced = new WeakMap<FastifyRequest, Traced>();

/**
 * Makes every gateway request a server span (`<METHOD> <route kind>`), continuing the client's trace when it
 * sends a W3C `traceparent`, and runs the request's hooks and handler with that span active, so that the RPC
 * requests, storage operations and log lines made on its behalf belong to it. Hooks only: the handlers know
 * nothing of it. The span ends with the response (status >= 500 is an error) or when the client goes away.
 */
export function traceHttp(fastify: FastifyInstance, tracer: Tracer, kindOf: (url: string) => string): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const kind = kindOf(request.url);
    const parent = contextFromHeaders(request.headers);
    const span = tracer.startSpan(
      `${request.method} ${kind}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': kind,
          'url.path': pathOf(request.url),
          'url.scheme': request.protocol,
          'network.protocol.version': request.raw.httpVersion,
          'client.address': request.ip,
          ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    // The request-log hook ran first: the request id is already this request's.
    const requestId = currentRequestId();
    if (requestId) span.setAttribute('ocireg.request_id', requestId);
    traced.set(request, { span, ended: false });
    runInTraceContext(contextWithSpan(span, parent), done);
  });

  // Again right before the handler: body parsing may have run in another async context.
  fastify.addHook('preHandler', (request, _reply, done) => {
    const seen = traced.get(request);
    if (!seen) return done();
    runInTraceContext(contextWithSpan(seen.span), done);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const seen = traced.get(request);
    if (seen && !seen.ended) {
      seen.ended = true;
      seen.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) seen.span.setStatus({ code: SpanStatusCode.ERROR });
      seen.span.end();
    }
    done();
  });

  fastify.addHook('onRequestAbort', (request, done) => {
    const seen = traced.get(request);
    if (seen && !seen.ended) {
      seen.ended = true;
      seen.span.setStatus({ code: SpanStatusCode.ERROR, message: 'client went away' });
      seen.span.end();
    }
    done();
  });
}
