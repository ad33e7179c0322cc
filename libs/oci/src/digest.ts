import { createHash } from 'node:crypto';

/** Digest algorithms the registry verifies content with, and the length of their hex encoding. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** A validated `algorithm:hex` content digest. */
export type Digest = string & { readonly __brand: 'Digest' };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: Digest;
}

/** The spec's general digest grammar: algorithm ":" encoded. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export type DigestProblem = 'malformed' | 'unsupported';

/** Parses a digest; returns the reason when it is not one the registry can verify. */
export function parseDigest(value: string): ParsedDigest | DigestProblem {
  if (value.length > 256 || !DIGEST_GRAMMAR.test(value)) return 'malformed';
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) return 'unsupported';
  if (hex.length !== DIGEST_ALGORITHMS[algorithm] || !/^[a-f0-9]+$/.test(hex)) return 'malformed';
  return { algorithm, hex, digest: value as Digest };
}

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return Object.prototype.hasOwnProperty.call(DIGEST_ALGORITHMS, value);
}

export function isDigest(value: string): value is Digest {
  return typeof parseDigest(value) === 'object';
}

/** True when the string looks like a digest (has the grammar's shape), valid or not. */
export function looksLikeDigest(value: string): boolean {
  return value.includes(':');
}

export function digestOf(data: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}` as Digest;
}
