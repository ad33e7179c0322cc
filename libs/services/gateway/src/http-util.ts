import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '@ocireg/errors';
import { DigestAlgorithm, parseDigest } from '@ocireg/oci';

export type Query = Record<string, string | undefined>;

export function queryOf(request: FastifyRequest): Query {
  const raw = request.query as Record<string, string | string[] | undefined>;
  const query: Query = {};
  for (const [key, value] of Object.entries(raw ?? {})) query[key] = Array.isArray(value) ? value[0] : value;
  return query;
}

/**
 * The request body as a stream: what the content-type parser handed over (the raw request, or what a
 * `preParsing` hook put in front of it, e.g. a byte counter), else the raw request.
 */
export function bodyOf(request: FastifyRequest): Readable {
  return request.body instanceof Readable ? request.body : request.raw;
}

/** True when the request declares a non-empty body. */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

/** A digest from a URL or query parameter: DIGEST_INVALID when malformed or of an unsupported algorithm. */
export function requireDigest(value: string | undefined): { digest: string; algorithm: DigestAlgorithm } {
  if (value === undefined || value === '') throw new RegistryError('DIGEST_INVALID', 'digest parameter is required');
  const parsed = parseDigest(value);
  if (parsed === 'malformed') throw new RegistryError('DIGEST_INVALID', 'invalid digest', { digest: value });
  if (parsed === 'unsupported') throw new RegistryError('DIGEST_INVALID', 'unsupported digest algorithm', { digest: value });
  return { digest: parsed.digest, algorithm: parsed.algorithm };
}

export function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

/** The Range header of an upload's status: bytes received so far, "0-0" when none (as Distribution). */
export function uploadRange(offset: number): string {
  return `0-${Math.max(offset - 1, 0)}`;
}

export function sendEmpty(reply: FastifyReply, status: number, headers: Record<string, string | number>): void {
  reply.status(status).headers({ ...headers, 'content-length': 0 }).send();
}

/** Drains what is left of a request body so the connection can be reused. */
export function discardBody(request: FastifyRequest): void {
  const body = bodyOf(request);
  if (!body.readableEnded) body.resume();
}
