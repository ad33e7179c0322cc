import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { CountingStream } from '@ocireg/observability';
import { isSelfCounting } from '@ocireg/storage';

interface Tap {
  stream: CountingStream;
  listeners: Array<(bytes: number) => void>;
  ends: Array<() => void>;
}

/** One tap per body: the request's (bodies received) or the reply's (bodies sent). */
const taps = new WeakMap<object, Tap>();

/**
 * Counts the bytes of a streamed body for every hook that wants them (the access log, the metrics) with one
 * pass-through stage per body, however many counters: each stage costs every chunk a trip through a
 * Transform. `owner` is the request for a body received, the reply for one sent; the stream returned goes on
 * in place of `payload` (the same one to every caller). `onEnd` runs when the body ends or fails. Wired with
 * pipe rather than stream.pipeline, whose every finish allocates a DOMException (for its AbortController);
 * the failure of either side still ends both, as pipeline's does. A body that counts its own bytes (the
 * filesystem store's) gets the counters as listeners and goes on unchanged.
 */
export function tapBytes(owner: object, payload: Readable, onBytes: (bytes: number) => void, onEnd?: () => void): Readable {
  if (isSelfCounting(payload)) {
    payload.observeBytes(onBytes);
    if (onEnd) payload.once('close', onEnd);
    return payload;
  }
  const existing = taps.get(owner);
  if (existing) {
    existing.listeners.push(onBytes);
    if (onEnd) existing.ends.push(onEnd);
    return existing.stream;
  }
  const listeners = [onBytes];
  const ends = onEnd ? [onEnd] : [];
  const stream = new CountingStream((bytes) => {
    for (const listener of listeners) listener(bytes);
  });
  taps.set(owner, { stream, listeners, ends });
  payload.once('error', (error) => stream.destroy(error));
  stream.once('close', () => {
    if (!payload.readableEnded) payload.destroy();
    for (const end of ends) end();
  });
  payload.pipe(stream);
  return stream;
}

/** As the gateway decides (hasBody): only then does Fastify hand the body to the content-type parser. */
export function declaresBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return length !== undefined ? Number(length) > 0 : request.headers['transfer-encoding'] !== undefined;
}

export function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function' && typeof (value as Readable).read === 'function';
}
