import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import type { BlobView, RequestOf, UploadView } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import type { Metadata } from '@ocireg/metadata';
import type { UploadSession, UploadSessionStore } from '@ocireg/sessions';
import { type AppendState, type ContentStore, blobKey } from '@ocireg/storage';

/**
 * Upload sessions: offsets, leases and commits. The bytes never come here: the gateway streams them into the
 * content store under a lease taken from this service, then reports the new append state. Everything lives
 * in the session store, so any replica of the gateway or of this service can continue any upload.
 */
@Injectable()
export class UploadService {
  private readonly logger = new Logger('UploadService');

  constructor(
    @Inject(Tokens.config) private readonly config: RegistryConfig,
    @Inject(Tokens.uploadSessions) private readonly sessions: UploadSessionStore,
    @Inject(Tokens.contentStore) private readonly store: ContentStore,
    @Inject(Tokens.metadata) private readonly metadata: Metadata,
  ) {}

  async start(repository: string, claim: boolean): Promise<UploadView> {
    const id = randomUUID();
    const storageKey = blobKey(id);
    const append = await this.store.startAppend(storageKey);
    const now = Date.now();
    const session: UploadSession = {
      id,
      repository,
      storageKey,
      append,
      version: 1,
      createdAt: now,
      updatedAt: now,
      lease: claim ? this.newLease() : undefined,
    };
    await this.sessions.create(session, this.config.uploads.ttlSeconds);
    return view(session);
  }

  async status(repository: string, id: string): Promise<{ id: string; offset: number }> {
    const session = await this.load(repository, id);
    return { id, offset: session.append.size };
  }

  /** Takes the upload's lease so one request at a time appends; `start` must equal the current offset. */
  async claim(repository: string, id: string, start: number | undefined): Promise<UploadView> {
    const session = await this.load(repository, id);
    if (start !== undefined && start !== session.append.size) {
      throw new RegistryError('RANGE_INVALID', `chunk starts at ${start} but the upload has ${session.append.size} bytes`, {
        offset: session.append.size,
      });
    }
    if (session.lease && session.lease.expiresAt > Date.now()) {
      throw new RegistryError('RANGE_INVALID', 'another request is writing to this upload', { offset: session.append.size });
    }
    const next = this.touch(session, { lease: this.newLease() });
    await this.replace(session, next);
    return view(next);
  }

  async advance(request: RequestOf<'upload.advance'>): Promise<{ id: string; offset: number }> {
    const session = await this.loadLeased(request.repository, request.id, request.leaseToken);
    const next = this.touch(session, { append: request.append as AppendState, lease: undefined });
    await this.replace(session, next);
    return { id: request.id, offset: next.append.size };
  }

  /**
   * Makes the gateway's object, holding the upload's first chunk, the upload's own (see the upload.adopt
   * contract); the upload's previous object, empty, is discarded. A compare-and-set on the session's version
   * lets one of two racing first chunks win; the other is refused.
   */
  async adopt(request: RequestOf<'upload.adopt'>): Promise<{ offset: number; adopted: boolean }> {
    const session = await this.load(request.repository, request.id);
    if (session.append.size !== 0) return { offset: session.append.size, adopted: false };
    if (session.lease && session.lease.expiresAt > Date.now()) {
      throw new RegistryError('RANGE_INVALID', 'another request is writing to this upload', { offset: 0 });
    }
    const append = request.append as AppendState;
    await this.replace(session, this.touch(session, { storageKey: request.storageKey, append }));
    await this.discardAppend(session, session.append);
    return { offset: append.size, adopted: true };
  }

  async release(repository: string, id: string, leaseToken: string): Promise<boolean> {
    const session = await this.sessions.get(id);
    if (!session || session.repository !== repository || session.lease?.token !== leaseToken) return false;
    return this.sessions.compareAndSet(id, session.version, this.touch(session, { lease: undefined }), this.config.uploads.ttlSeconds);
  }

  /**
   * Records an upload that the gateway completed in the content store and hashed: the blob becomes visible
   * only when the digest of the bytes received is the one the client named.
   */
  async commit(request: RequestOf<'upload.commit'>): Promise<BlobView> {
    const session = await this.loadLeased(request.repository, request.id, request.leaseToken);
    if (request.computedDigest !== request.digest) {
      await this.sessions.delete(session.id);
      await this.store.delete(session.storageKey);
      throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
        expected: request.digest,
        computed: request.computedDigest,
      });
    }
    const { blob, created } = await this.metadata.blobs.commitBlob(session.repository, {
      digest: request.digest,
      size: request.size,
      storageKey: session.storageKey,
    });
    if (!created && blob.storageKey !== session.storageKey) {
      // The same content was already stored: keep one copy.
      await this.store.delete(session.storageKey);
    }
    await this.sessions.delete(session.id);
    return blob;
  }

  /**
   * Completes and commits in one step what the gateway would otherwise claim, complete and commit (see the
   * upload.complete contract). The upload's own object is completed under a lease taken here, so that no
   * append slips in meanwhile. A whole object sent along needs none: it is the gateway's alone, and an append
   * that raced with it finds the upload gone when it reports (upload.advance), its bytes discarded with the
   * upload's unfinished object.
   */
  async complete(request: RequestOf<'upload.complete'>): Promise<{ blob?: BlobView; offset?: number }> {
    const session = await this.load(request.repository, request.id);
    const held = request.object === undefined ? request.size : 0;
    if (session.append.size !== held) return { offset: session.append.size };
    if (session.lease && session.lease.expiresAt > Date.now()) {
      throw new RegistryError('RANGE_INVALID', 'another request is writing to this upload', { offset: session.append.size });
    }
    let leaseToken: string | undefined;
    if (request.object === undefined) {
      const leased = this.touch(session, { lease: this.newLease() });
      await this.replace(session, leased);
      leaseToken = leased.lease?.token;
    }
    if (request.computedDigest !== request.digest) {
      await this.sessions.delete(session.id);
      await this.discardContent(session, request.object);
      throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
        expected: request.digest,
        computed: request.computedDigest,
      });
    }
    const storageKey = request.object ?? session.storageKey;
    let committed: { blob: BlobView; created: boolean };
    try {
      // Retried after a failure below, the completion finds the object already in place.
      if (request.object === undefined) await this.store.completeAppend(session.storageKey, session.append);
      committed = await this.metadata.blobs.commitBlob(session.repository, { digest: request.digest, size: request.size, storageKey });
    } catch (error) {
      // The upload stays as it was, free for a retry.
      if (leaseToken !== undefined) await this.release(session.repository, session.id, leaseToken).catch(() => false);
      throw error;
    }
    const { blob, created } = committed;
    await Promise.all([
      !created && blob.storageKey !== storageKey ? this.store.delete(storageKey) : undefined,
      this.sessions.delete(session.id),
      // The whole object replaced the upload's own (empty) one: nothing of that may stay behind.
      request.object !== undefined ? this.discardAppend(session, session.append) : undefined,
    ]);
    return { blob };
  }

  async cancel(repository: string, id: string): Promise<boolean> {
    const session = await this.load(repository, id);
    await this.discard(session, session.append);
    return true;
  }

  private async discard(session: UploadSession, append: AppendState): Promise<void> {
    await this.sessions.delete(session.id);
    await this.discardAppend(session, append);
  }

  private async discardAppend(session: UploadSession, append: AppendState): Promise<void> {
    try {
      await this.store.abortAppend(session.storageKey, append);
    } catch (error) {
      this.logger.warn(`could not discard upload ${session.id}: ${(error as Error).message}`);
    }
  }

  /** What a failed upload.complete stored: the whole object sent along, else the upload's unfinished one. */
  private async discardContent(session: UploadSession, object: string | undefined): Promise<void> {
    if (object !== undefined) await this.store.delete(object);
    await this.discardAppend(session, session.append);
  }

  private async load(repository: string, id: string): Promise<UploadSession> {
    const session = /^[a-zA-Z0-9-]{1,64}$/.test(id) ? await this.sessions.get(id) : undefined;
    if (!session || session.repository !== repository) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
    return session;
  }

  private async loadLeased(repository: string, id: string, leaseToken: string): Promise<UploadSession> {
    const session = await this.load(repository, id);
    if (session.lease?.token !== leaseToken) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'the upload changed while this request was writing to it', { id });
    }
    return session;
  }

  private async replace(current: UploadSession, next: UploadSession): Promise<void> {
    const replaced = await this.sessions.compareAndSet(current.id, current.version, next, this.config.uploads.ttlSeconds);
    if (!replaced) throw new RegistryError('RANGE_INVALID', 'another request changed this upload', { offset: current.append.size });
  }

  private touch(session: UploadSession, changes: Partial<UploadSession>): UploadSession {
    return { ...session, ...changes, version: session.version + 1, updatedAt: Date.now() };
  }

  private newLease(): { token: string; expiresAt: number } {
    return { token: randomBytes(16).toString('hex'), expiresAt: Date.now() + this.config.uploads.leaseSeconds * 1000 };
  }
}

function view(session: UploadSession): UploadView {
  return {
    id: session.id,
    repository: session.repository,
    storageKey: session.storageKey,
    offset: session.append.size,
    append: session.append,
    leaseToken: session.lease?.token,
  };
}
