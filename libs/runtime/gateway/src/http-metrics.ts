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
  fastify.addHook('onRequest', async (request) => {
    observed.set(request, { start: process.hrtime.bigint(), kind: kindOf(request.url) });
  });

  // Upload bodies go through a byte counter; the handlers read it as the body (see bodyOf in the gateway).
  fastify.addHook('preParsing', async (request, _reply, payload) => {
    const seen = observed.get(request);
    if (!seen || !UPLOAD_KINDS.has(seen.kind) || !UPLOAD_METHODS.has(request.method) || !declaresBody(request)) return payload;
    metrics.uploadsInProgress.inc();
    let done = false;
    seen.uploadDone = () => {
      if (done) return;
      done = true;
      metrics.uploadsInProgress.dec();
    };
    return tapBytes(request, payload, (bytes) => metrics.bytesReceived.inc({ kind: seen.kind }, bytes), () => seen.uploadDone?.());
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    const kind = observed.get(request)?.kind ?? kindOf(request.url);
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      metrics.bytesSent.inc({ kind }, Buffer.byteLength(payload));
      return payload;
    }
    if (isReadable(payload)) {
      return tapBytes(reply, payload, (bytes) => metrics.bytesSent.inc({ kind }, bytes));
    }
    return payload;
  });

  fastify.addHook('onResponse', async (request, reply) => {
    const seen = observed.get(request);
    if (!seen) return;
    seen.uploadDone?.();
    const labels = { kind: seen.kind, method: request.method, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, secondsSince(seen.start));
  });

  // A request whose client went away before the response: no onResponse, but the upload is over.
  fastify.addHook('onRequestAbort', async (request) => {
    observed.get(request)?.uploadDone?.();
  });
}
