import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tokens } from '@ocireg/config';
import type { RegistryRpc } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import type { ByteRange, ContentStore } from '@ocireg/storage';
import { requireDigest, sendEmpty } from './http-util';

/** Blob reads: metadata from the blob service, bytes streamed straight from the content store. */
@Injectable()
export class BlobsHandler {
  constructor(
    @Inject(Tokens.rpc) private readonly rpc: RegistryRpc,
    @Inject(Tokens.contentStore) private readonly store: ContentStore,
  ) {}

  /** GET and HEAD /v2/<name>/blobs/<digest>, with single-range reads (206, or 416 past the end). */
  async get(name: string, reference: string, request: FastifyRequest, reply: FastifyReply, head: boolean): Promise<void> {
    const { digest } = requireDigest(reference);
    const blob = await this.rpc.call('blob.resolve', { repository: name, digest });
    const range = parseRange(request.headers['range'], blob.size);
    reply.headers({
      'docker-content-digest': blob.digest,
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: `"${blob.digest}"`,
      'cache-control': 'max-age=31536000',
    });
    if (range) {
      reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`);
      reply.header('content-length', range.end - range.start + 1);
    } else {
      reply.status(200).header('content-length', blob.size);
    }
    if (head || blob.size === 0) return void reply.send();
    return void reply.send(await this.store.read(blob.storageKey, range));
  }

  /** DELETE /v2/<name>/blobs/<digest>: unlinks the blob from the repository (202). */
  async delete(name: string, reference: string, reply: FastifyReply): Promise<void> {
    const { digest } = requireDigest(reference);
    await this.rpc.call('blob.delete', { repository: name, digest });
    sendEmpty(reply, 202, {});
  }
}

/**
 * Parses `Range: bytes=a-b | a- | -n` against a size (RFC 9110 §14). Undefined, meaning the whole blob,
 * for no header or one a server may ignore: another unit, several ranges, or a malformed value. A single
 * byte range that cannot be satisfied is RANGE_NOT_SATISFIABLE (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(size - suffix, 0);
    end = size - 1;
    if (suffix === 0) throw new RegistryError('RANGE_NOT_SATISFIABLE', undefined, { size });
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) throw new RegistryError('RANGE_NOT_SATISFIABLE', undefined, { size });
  return { start, end };
}
