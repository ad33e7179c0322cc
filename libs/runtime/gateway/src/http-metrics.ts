import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type HttpMetrics, secondsSince } from '@ocireg/observability';
import { declaresBody, isReadable, tapBytes } from './byte-taps';

/** Route kinds whose request bodies are blob uploads: counted, and tracked by the uploads-in-progress gauge. */
const UPLOAD_KINDS = new Set(['uploads', 'upload']);
const UPLOAD_METHODS = new Set(['POST', 'PATCH', 'PUT']);

interface Observed {
  start: bigint;
  kind: string;
  /** Called once when an upload body ends (or the request does): brings the gauge down. */
  uploadDone?: () => void;
}

const observed = new WeakMap<FastifyRequest, Observed>();

/**
 * Instruments the gateway's Fastify instance from the composition root, with hooks only (the handlers know
 * nothing of it): requests by route kind, method and status with their latency, body bytes received on upload
 * routes and sent on every route, and upload bodies in progress.
 */
export function instrumentHttp(fastify: FastifyInstance, metrics: HttpMetrics, kindOf: (url: string) => string): void {
  // Callback hooks, not async ones: an async hook costs every request a promise and a trip through the
  // microtask queue (and the async context's promise hooks), for work that never waits.
  fastify.addHook('onRequest', (request, _reply, done) => {
    observed.set(request, { start: process.hrtime.bigint(), kind: kindOf(request.url) });
    done();
  });

  // Upload bodies go through a byte counter; the handlers read it as the body (see bodyOf in the gateway).
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const seen = observed.get(request);
    if (!seen || !UPLOAD_KINDS.has(seen.kind) || !UPLOAD_METHODS.has(request.method) || !declaresBody(request)) return done(null, payload);
    metrics.uploadsInProgress.inc();
    let ended = false;
    seen.uploadDone = () => {
      if (ended) return;
      ended = true;
      metrics.uploadsInProgress.dec();
    };
    done(null, tapBytes(request, payload, (bytes) => metrics.bytesReceived.inc({ kind: seen.kind }, bytes), () => seen.uploadDone?.()));
  });

  fastify.addHook('onSend', (request, reply, payload, done) => {
    const kind = observed.get(request)?.kind ?? kindOf(request.url);
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      metrics.bytesSent.inc({ kind }, Buffer.byteLength(payload));
      return done(null, payload);
    }
    if (isReadable(payload)) return done(null, tapBytes(reply, payload, (bytes) => metrics.bytesSent.inc({ kind }, bytes)));
    done(null, payload);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const seen = observed.get(request);
    if (seen) {
      seen.uploadDone?.();
      const labels = { kind: seen.kind, method: request.method, status: String(reply.statusCode) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, secondsSince(seen.start));
    }
    done();
  });

  // A request whose client went away before the response: no onResponse, but the upload is over.
  fastify.addHook('onRequestAbort', (request, done) => {
    observed.get(request)?.uploadDone?.();
    done();
  });
}
