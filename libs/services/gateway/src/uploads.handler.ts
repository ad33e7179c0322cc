import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegistryConfig, Tokens } from '@ocireg/config';
import { type BlobView, type RegistryRpc, type UploadIds, UploadView, uploadIdsFrom } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { DigestAlgorithm, isDigestAlgorithm, isRepositoryName } from '@ocireg/oci';
import { type AppendState, type ContentStore, blobKey } from '@ocireg/storage';
import { bodyOf, discardBody, hasBody, queryOf, requireDigest, sendEmpty, uploadLocation, uploadRange } from './http-util';
import { MeteredStream, UploadHashes, meterBody } from './upload-hashes';
import { HashWorkers, InlineHash, type RunningHash } from './running-hash';
import type { Caller } from './access/caller';

/** Repositories an automatic mount considers as its source (the first the caller may pull wins). */
const AUTOMATIC_MOUNT_CANDIDATES = 100;
/**
 * Bodies of at least this many bytes (or of unknown length) are hashed on a worker thread: below it, the
 * copy and the messages cost about what hashing on the event loop does, and the digest comes later.
 */
export const OFF_THREAD_MIN = 4 * 1024 * 1024;

interface Appended {
  append: AppendState;
  hash: RunningHash | undefined;
  /** The object is already complete in the store (the body was its last chunk). */
  completed?: boolean;
}

/** Blob uploads: the bytes stream from the client into the content store; sessions live in the upload service. */
@Injectable()
export class UploadsHandler {
  private readonly hashes = new UploadHashes();
  /** With a secret, upload ids are issued here (no call at the POST); see UploadIds. */
  private readonly ids: UploadIds | undefined;
  /** Threads hashing large bodies (see running-hash.ts); none configured: all on the event loop. */
  private readonly hashing: HashWorkers | undefined;

  constructor(
    @Inject(Tokens.config) private readonly config: RegistryConfig,
    @Inject(Tokens.rpc) private readonly rpc: RegistryRpc,
    @Inject(Tokens.contentStore) private readonly store: ContentStore,
  ) {
    this.ids = uploadIdsFrom(config.uploads);
    this.hashing = config.uploads.hashThreads > 0 ? new HashWorkers(config.uploads.hashThreads) : undefined;
  }

  /** The threads start with the process: their memory counts in its size at rest, not as growth under load. */
  onModuleInit(): void {
    this.hashing?.start();
  }

  /**
   * After the HTTP server has closed, once the requests in flight are answered (Nest destroys modules before
   * it closes the server: a drain would see its uploads' hashes fail).
   */
  async onApplicationShutdown(): Promise<void> {
    await this.hashing?.close();
  }

  /** How the body of `request` is hashed: on a worker thread when it is large or of unknown length. */
  private hashFor(request: FastifyRequest): () => RunningHash {
    const length = request.headers['content-length'];
    const hashing = this.hashing;
    if (!hashing || (length !== undefined && Number(length) < OFF_THREAD_MIN)) return () => new InlineHash();
    return () => hashing.create();
  }

  /**
   * POST /v2/<name>/blobs/uploads/ : start an upload, a monolithic upload (?digest=) or a mount (?mount=&from=).
   * With signed ids the upload service hears of the upload only at its first write.
   */
  async start(name: string, caller: Caller, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = queryOf(request);
    if (query['mount'] !== undefined) {
      const { digest } = requireDigest(query['mount']);
      if (await this.mount(name, digest, query['from'], caller)) {
        discardBody(request);
        return sendEmpty(reply, 201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
      }
    }
    const algorithm = query['digest-algorithm'];
    if (algorithm !== undefined && !isDigestAlgorithm(algorithm)) {
      throw new RegistryError('DIGEST_INVALID', 'unsupported digest algorithm', { algorithm });
    }
    if (query['digest'] !== undefined) {
      const wanted = requireDigest(query['digest']);
      if (this.ids) return sendCreated(reply, name, await this.completeUpload(name, this.ids.issue(name), wanted, undefined, request));
      const upload = await this.rpc.call('upload.start', { repository: name, claim: true });
      return sendCreated(reply, name, await this.finish(name, upload, wanted, bodyIf(request), undefined, this.hashFor(request)));
    }
    discardBody(request);
    const id = this.ids ? this.ids.issue(name) : (await this.rpc.call('upload.start', { repository: name, claim: false })).id;
    const headers: Record<string, string | number> = {
      location: uploadLocation(name, id),
      range: uploadRange(0),
      'docker-upload-uuid': id,
    };
    if (this.config.storage.driver === 's3') {
      // Any chunk size works; chunks of at least one S3 part avoid re-reading a partial part per PATCH.
      headers['oci-chunk-min-length'] = this.config.storage.partSize;
    }
    sendEmpty(reply, 202, headers);
  }

  /**
   * Mounts a blob into `name`: from `from` when given, else (automatic mount) from a repository that holds it;
   * only from a repository the caller may pull. False when there is nothing to mount: an ordinary upload.
   */
  private async mount(name: string, digest: string, from: string | undefined, caller: Caller): Promise<boolean> {
    let sources: string[];
    if (from !== undefined) {
      sources = isRepositoryName(from) ? [from] : [];
    } else {
      sources = (await this.rpc.call('blob.holders', { digest, limit: AUTOMATIC_MOUNT_CANDIDATES })).repositories;
    }
    const source = sources.find((repository) => caller.may(repository, 'pull'));
    if (source === undefined) return false;
    const { blob } = await this.rpc.call('blob.mount', { repository: name, digest, from: source });
    return blob !== undefined;
  }

  /** GET /v2/<name>/blobs/uploads/<id> : how many bytes the upload has. */
  async status(name: string, id: string, reply: FastifyReply): Promise<void> {
    const { offset } = await this.rpc.call('upload.status', { repository: name, id });
    sendEmpty(reply, 204, { location: uploadLocation(name, id), range: uploadRange(offset), 'docker-upload-uuid': id });
  }

  /**
   * PATCH /v2/<name>/blobs/uploads/<id> : append a chunk (Content-Range must continue the upload). A chunk that
   * can be the upload's first (no Content-Range, or one from 0, and no earlier chunk seen here) takes one call
   * to the upload service (upload.adopt) instead of a claim then an advance.
   */
  async patch(name: string, id: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const range = parseContentRange(request.headers['content-range']);
    const body = bodyIf(request);
    const newHash = this.hashFor(request);
    const offset =
      body && (range === undefined || range.start === 0) && !this.hashes.has(id)
        ? await this.appendFirst(name, id, body, newHash, range)
        : await this.appendChunk(name, id, body, newHash, range);
    sendEmpty(reply, 202, { location: uploadLocation(name, id), range: uploadRange(offset), 'docker-upload-uuid': id });
  }

  /** A chunk the long way: the lease, the append, then the new state reported. */
  private async appendChunk(name: string, id: string, body: Readable | undefined, newHash: () => RunningHash, range?: ContentRange): Promise<number> {
    const upload = await this.rpc.call('upload.claim', { repository: name, id, start: range?.start });
    const { append, hash } = await this.appendBody(upload, body, newHash, range);
    let advanced;
    try {
      advanced = await this.rpc.call('upload.advance', { repository: name, id, leaseToken: requireLease(upload), append });
    } catch (error) {
      hash?.dispose();
      throw error;
    }
    if (hash) this.hashes.put(id, advanced.offset, hash);
    return advanced.offset;
  }

  /**
   * A chunk appended to an object of its own, hashed on the way, then upload.adopt. When the upload turns out to
   * hold bytes already (earlier chunks went through another gateway), the chunk is refused if its Content-Range
   * said it starts at 0, and otherwise completed and appended to them the long way. The object is removed unless
   * the upload adopted it, or may have (an answer that did not come).
   */
  private async appendFirst(name: string, id: string, body: Readable, newHash: () => RunningHash, range?: ContentRange): Promise<number> {
    const { key, result: append, hash, bytes } = await this.writeOwn(body, newHash, (key, start, metered) => this.store.append(key, start, metered));
    let keep = false;
    let kept = false;
    try {
      if (range && bytes !== range.end - range.start + 1) {
        throw new RegistryError('SIZE_INVALID', 'the body length does not match Content-Range');
      }
      const adoption = await this.rpc.call('upload.adopt', { repository: name, id, storageKey: key, append }).catch((error: unknown) => {
        keep = !(error instanceof RegistryError) || error.code === 'UNAVAILABLE' || error.code === 'UNKNOWN';
        throw error;
      });
      if (adoption.adopted) {
        keep = true;
        this.hashes.put(id, adoption.offset, hash);
        kept = true;
        return adoption.offset;
      }
      if (range) {
        throw new RegistryError('RANGE_INVALID', `chunk starts at 0 but the upload has ${adoption.offset} bytes`, { offset: adoption.offset });
      }
      await this.store.completeAppend(key, append);
      return await this.appendChunk(name, id, await this.store.read(key), newHash);
    } finally {
      if (!kept) hash.dispose();
      if (!keep) await Promise.all([this.store.abortAppend(key, append).catch(() => undefined), this.store.delete(key).catch(() => undefined)]);
    }
  }

  /**
   * PUT /v2/<name>/blobs/uploads/<id>?digest= : the last (optional) chunk, then verify and commit. The usual
   * cases take one call to the upload service (upload.complete) instead of a claim then a commit: a body that
   * is the whole blob (the monolithic POST then PUT), or no body when this process hashed every earlier byte.
   */
  async complete(name: string, id: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const wanted = requireDigest(queryOf(request)['digest']);
    const range = parseContentRange(request.headers['content-range']);
    sendCreated(reply, name, await this.completeUpload(name, id, wanted, range, request));
  }

  /** The request's body (if any) as the upload's last chunk, then verify and commit (see complete). */
  private async completeUpload(
    name: string,
    id: string,
    wanted: { digest: string; algorithm: DigestAlgorithm },
    range: ContentRange | undefined,
    request: FastifyRequest,
  ): Promise<BlobView> {
    const newHash = this.hashFor(request);
    if (range === undefined && wanted.algorithm === 'sha256') {
      const done = hasBody(request)
        ? await this.completeWhole(name, id, wanted, bodyOf(request), newHash)
        : await this.completeHashed(name, id, wanted.digest);
      if (done) return done;
    }
    const upload = await this.rpc.call('upload.claim', { repository: name, id, start: range?.start });
    return this.finish(name, upload, wanted, bodyIf(request), range, newHash);
  }

  /**
   * The body as a whole object of its own, hashed on the way, then upload.complete. When the upload turns out
   * to hold bytes already (its earlier chunks went through another replica), the object is appended to them
   * the long way and then removed.
   */
  private async completeWhole(
    name: string,
    id: string,
    wanted: { digest: string; algorithm: DigestAlgorithm },
    body: Readable,
    newHash: () => RunningHash,
  ): Promise<BlobView | undefined> {
    // This process saw earlier chunks of the upload: it holds bytes, the long way it is.
    if (this.hashes.has(id)) return undefined;
    const { key, hash, bytes } = await this.writeOwn(body, newHash, (key, start, metered) => this.store.completeAppend(key, start, metered));
    try {
      // A hashing thread that failed: the bytes are read back from the store instead.
      const computedDigest = await hash.digest().then((hex) => `sha256:${hex}`, () => this.digestStored(key, 'sha256'));
      const { blob } = await this.rpc.call('upload.complete', { repository: name, id, digest: wanted.digest, computedDigest, size: bytes, object: key });
      if (blob) return blob;
      const upload = await this.rpc.call('upload.claim', { repository: name, id });
      const finished = await this.finish(name, upload, wanted, await this.store.read(key), undefined, newHash);
      await this.store.delete(key);
      return finished;
    } catch (error) {
      await this.store.delete(key).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Streams a body into an object of this gateway's own (a fresh key, not yet any upload's), hashing it; when
   * either side fails, nothing of it stays.
   */
  private async writeOwn<T>(
    body: Readable,
    newHash: () => RunningHash,
    write: (key: string, start: AppendState, metered: MeteredStream) => Promise<T>,
  ): Promise<{ key: string; result: T; hash: RunningHash; bytes: number }> {
    const key = blobKey(randomUUID());
    const start = await this.store.startAppend(key);
    const hash = newHash();
    const meter = new MeteredStream(hash);
    try {
      const writing = write(key, start, meter);
      await Promise.all([meterBody(body, meter), writing]);
      return { key, result: await writing, hash, bytes: meter.bytes };
    } catch (error) {
      hash.dispose();
      await this.store.abortAppend(key, start).catch(() => undefined);
      throw error instanceof RegistryError ? error : new RegistryError('BLOB_UPLOAD_INVALID', 'the chunk was not received whole');
    }
  }

  /** No body, and this process hashed the upload's bytes: upload.complete. Undefined when it must go the long way. */
  private async completeHashed(name: string, id: string, digest: string): Promise<BlobView | undefined> {
    const running = this.hashes.peek(id);
    if (!running) return undefined;
    const hex = await running.hash.digestSoFar().catch(() => undefined);
    if (hex === undefined) {
      // Its hashing thread failed: the long way (the digest read back from the store).
      this.hashes.drop(id);
      return undefined;
    }
    const computedDigest = `sha256:${hex}`;
    const { blob } = await this.rpc.call('upload.complete', { repository: name, id, digest, computedDigest, size: running.offset });
    if (blob) this.hashes.drop(id);
    return blob;
  }

  /** DELETE /v2/<name>/blobs/uploads/<id> : cancel. */
  async cancel(name: string, id: string, reply: FastifyReply): Promise<void> {
    await this.rpc.call('upload.cancel', { repository: name, id });
    sendEmpty(reply, 204, {});
  }

  /** Appends the last chunk (if any) under the lease, completes the object, verifies and commits it. */
  private async finish(
    name: string,
    upload: UploadView,
    wanted: { digest: string; algorithm: DigestAlgorithm },
    body: Readable | undefined,
    range: ContentRange | undefined,
    newHash: () => RunningHash,
  ): Promise<BlobView> {
    const leaseToken = requireLease(upload);
    // A body without Content-Range (a monolithic PUT, the usual last step) is written and completed in one step.
    const { append, hash, completed } =
      body && !range ? await this.appendAndComplete(upload, body, newHash) : await this.appendBody(upload, body, newHash, range);
    let computedDigest: string;
    try {
      if (!completed) await this.store.completeAppend(upload.storageKey, append);
      const hex = hash && wanted.algorithm === 'sha256' ? await hash.digest().catch(() => undefined) : undefined;
      hash?.dispose(); // a running hash of no use (another algorithm) ends here too
      // No running hash, another algorithm, or a hashing thread that failed: the bytes are read back.
      computedDigest = hex !== undefined ? `sha256:${hex}` : await this.digestStored(upload.storageKey, wanted.algorithm);
    } catch (error) {
      hash?.dispose();
      await this.release(upload);
      throw error;
    }
    return this.rpc.call('upload.commit', {
      repository: name,
      id: upload.id,
      leaseToken,
      size: append.size,
      digest: wanted.digest,
      computedDigest,
    });
  }

  /** Streams the request body (if any) onto the upload, hashing it when this process has the running hash. */
  private async appendBody(upload: UploadView, body: Readable | undefined, newHash: () => RunningHash, range?: ContentRange): Promise<Appended> {
    const hash = this.hashes.take(upload.id, upload.offset, newHash);
    if (!body) {
      if (range && range.end >= range.start) {
        hash?.dispose();
        await this.failChunk(upload, new RegistryError('SIZE_INVALID', 'Content-Range announces bytes but the body is empty'));
      }
      return { append: upload.append as AppendState, hash };
    }
    const { result: append, bytes } = await this.streamBody(upload, body, hash, (metered) =>
      this.store.append(upload.storageKey, upload.append as AppendState, metered),
    );
    if (range && bytes !== range.end - range.start + 1) {
      hash?.dispose();
      return this.failChunk(upload, new RegistryError('SIZE_INVALID', 'the body length does not match Content-Range'));
    }
    return { append, hash };
  }

  /** The body as the last chunk, completing the object with it (see ContentAppender.completeAppend). */
  private async appendAndComplete(upload: UploadView, body: Readable, newHash: () => RunningHash): Promise<Appended> {
    const hash = this.hashes.take(upload.id, upload.offset, newHash);
    const { result: completed } = await this.streamBody(upload, body, hash, (metered) =>
      this.store.completeAppend(upload.storageKey, upload.append as AppendState, metered),
    );
    return { append: { ...(upload.append as AppendState), size: completed.size }, hash, completed: true };
  }

  /**
   * Streams the request body into `write` through a meter that counts it and, with `hash`, hashes it; when
   * either side fails, the lease goes back and the chunk is refused.
   */
  private async streamBody<T>(
    upload: UploadView,
    body: Readable,
    hash: RunningHash | undefined,
    write: (body: MeteredStream) => Promise<T>,
  ): Promise<{ result: T; bytes: number }> {
    const meter = new MeteredStream(hash);
    try {
      const writing = write(meter);
      await Promise.all([meterBody(body, meter), writing]);
      return { result: await writing, bytes: meter.bytes };
    } catch (error) {
      hash?.dispose();
      return this.failChunk(upload, error instanceof RegistryError ? error : new RegistryError('BLOB_UPLOAD_INVALID', 'the chunk was not received whole'));
    }
  }

  private async failChunk(upload: UploadView, error: RegistryError): Promise<never> {
    await this.release(upload);
    throw error;
  }

  private async release(upload: UploadView): Promise<void> {
    if (!upload.leaseToken) return;
    await this.rpc
      .call('upload.release', { repository: upload.repository, id: upload.id, leaseToken: upload.leaseToken })
      .catch(() => undefined);
  }

  /** Digest of a completed object, read back once: when no process saw the whole upload, or for sha512. */
  private async digestStored(key: string, algorithm: DigestAlgorithm): Promise<string> {
    const hash = createHash(algorithm);
    for await (const chunk of await this.store.read(key)) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}`;
  }
}

interface ContentRange {
  start: number;
  end: number;
}

/** `Content-Range: <start>-<end>` of a chunk (the spec's form; "bytes " prefix tolerated). */
function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match?.[1] || !match[2]) throw new RegistryError('RANGE_INVALID', 'malformed Content-Range');
  const range = { start: Number(match[1]), end: Number(match[2]) };
  if (range.end < range.start) throw new RegistryError('RANGE_INVALID', 'Content-Range ends before it starts');
  return range;
}

function requireLease(upload: UploadView): string {
  if (!upload.leaseToken) throw new RegistryError('UNKNOWN', 'upload lease missing');
  return upload.leaseToken;
}

/** The body of a request that declares one. */
function bodyIf(request: FastifyRequest): Readable | undefined {
  return hasBody(request) ? bodyOf(request) : undefined;
}

function sendCreated(reply: FastifyReply, name: string, blob: BlobView): void {
  sendEmpty(reply, 201, { location: `/v2/${name}/blobs/${blob.digest}`, 'docker-content-digest': blob.digest });
}
