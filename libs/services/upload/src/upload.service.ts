import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import { type BlobView, type RequestOf, type UploadView, UploadIds, uploadIdsFrom } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import type { Metadata } from '@ocireg/metadata';
import type { UploadSession, UploadSessionStore } from '@ocireg/sessions';
import { type AppendState, type ContentStore, blobKey } from '@ocireg/storage';

/**
 * Upload sessions: offsets, leases and commits. The bytes never come here: the gateway streams them into the
 * content store under a lease taken from this service, then reports the new append state. Everything lives
 * in the session store, so any replica of the gateway or of this service can continue any upload.
 *
 * With a secret configured, the gateway issues signed upload ids itself (UploadIds): a signed id without a
 * session is an upload not yet written to, a "fresh" one (version 0, not stored). The first change stores its
 * session (create: of two racing first changes one wins); its end leaves a mark (ended) so that the id stays
 * unknown afterwards.
 */
@Injectable()
export class UploadService {
  private readonly logger = new Logger('UploadService');
  private readonly ids: UploadIds | undefined;

  constructor(
    @Inject(Tokens.config) private readonly config: RegistryConfig,
    @Inject(Tokens.uploadSessions) private readonly sessions: UploadSessionStore,
    @Inject(Tokens.contentStore) private readonly store: ContentStore,
    @Inject(Tokens.metadata) private readonly metadata: Metadata,
  ) {
    this.ids = uploadIdsFrom(config.uploads);
  }

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
    if (!(await this.sessions.create(session, this.config.uploads.ttlSeconds))) throw new Error(`upload id ${id} is taken`);
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
    const append = request.append as AppendState;
    // The first chunk of a signed id, most often: its session is stored at once (one round trip to the session
    // store, not a read then a write), which also tells that nothing was stored before it.
    const fresh = await this.freshSession(request.repository, request.id);
    if (fresh && (await this.sessions.create(this.touch(fresh, { storageKey: request.storageKey, append }), this.config.uploads.ttlSeconds))) {
      return { offset: append.size, adopted: true };
    }
    const session = await this.load(request.repository, request.id);
    if (session.append.size !== 0) return { offset: session.append.size, adopted: false };
    if (session.lease && session.lease.expiresAt > Date.now()) {
      throw new RegistryError('RANGE_INVALID', 'another request is writing to this upload', { offset: 0 });
    }
    await this.replace(session, this.touch(session, { storageKey: request.storageKey, append }));
    if (!isFresh(session)) await this.discardAppend(session, session.append);
    return { offset: append.size, adopted: true };
  }

  async release(repository: string, id: string, leaseToken: string): Promise<boolean> {
    const session = await this.sessions.get(id);
    if (!session || session.ended || session.repository !== repository || session.lease?.token !== leaseToken) return false;
    return this.sessions.compareAndSet(id, session.version, this.touch(session, { lease: undefined }), this.config.uploads.ttlSeconds);
  }

  /**
   * Records an upload that the gateway completed in the content store and hashed: the blob becomes visible
   * only when the digest of the bytes received is the one the client named.
   */
  async commit(request: RequestOf<'upload.commit'>): Promise<BlobView> {
    const session = await this.loadLeased(request.repository, request.id, request.leaseToken);
    if (request.computedDigest !== request.digest) {
      await this.end(session);
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
    await this.end(session);
    return blob;
  }

  /**
   * Completes and commits in one step what the gateway would otherwise claim, complete and commit (see the
   * upload.complete contract). The upload's own object is completed under a lease taken here, so that no
   * append slips in meanwhile. A whole object sent along needs none: it is the gateway's alone, and an append
   * that raced with it finds the upload gone when it reports (upload.advance), its bytes discarded with the
   * upload's unfinished object.
   */
  async complete(request: RequestOf<'upload.complete'>, retried = false): Promise<{ blob?: BlobView; offset?: number }> {
    // A whole object for a signed id, most often one never written to: the mark that ends the upload is stored
    // at once, which also tells that nothing was stored before it (else the upload is read as usual).
    const claimed = request.object !== undefined && !retried ? await this.claimFresh(request.repository, request.id) : undefined;
    const session = claimed?.fresh ?? (await this.load(request.repository, request.id));
    const held = request.object === undefined ? request.size : 0;
    if (session.append.size !== held) return { offset: session.append.size };
    if (session.lease && session.lease.expiresAt > Date.now()) {
      throw new RegistryError('RANGE_INVALID', 'another request is writing to this upload', { offset: session.append.size });
    }
    let current = claimed?.mark ?? session;
    let leaseToken: string | undefined;
    /** The upload's state was replaced by its end mark, to be put back if the commit fails. */
    let reopen: UploadSession | undefined;
    if (request.object === undefined && this.endsWithMark(session)) {
      // The mark that ends the upload is stored first, in place of a lease then the mark: no other request
      // writes to an ended upload, and one round trip to the session store is saved.
      current = this.endMark(session);
      await this.replace(session, current, this.markSeconds(session));
      reopen = session;
    } else if (request.object === undefined) {
      current = this.touch(session, { lease: this.newLease() });
      await this.replace(session, current);
      leaseToken = current.lease?.token;
    } else if (!claimed && isFresh(session)) {
      // Nothing stored yet: the mark that ends the upload is stored first, so that no first chunk starts it
      // meanwhile (one that did wins, and this goes the way of an upload holding bytes).
      current = this.endMark(session);
      if (!(await this.sessions.create(current, this.markSeconds(session)))) {
        if (retried) throw new RegistryError('RANGE_INVALID', 'another request changed this upload', { offset: 0 });
        return this.complete(request, true);
      }
    }
    if (request.computedDigest !== request.digest) {
      await this.end(current);
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
      else if (reopen) await this.replace(current, { ...this.touch(current, {}), ended: undefined }).catch(() => undefined);
      else if (current.ended) await this.sessions.delete(session.id).catch(() => false);
      throw error;
    }
    const { blob, created } = committed;
    await Promise.all([
      !created && blob.storageKey !== storageKey ? this.store.delete(storageKey) : undefined,
      current.ended ? undefined : this.end(current),
      // The whole object replaced the upload's own (empty) one: nothing of that may stay behind.
      request.object !== undefined && !isFresh(session) ? this.discardAppend(session, session.append) : undefined,
    ]);
    return { blob };
  }

  async cancel(repository: string, id: string): Promise<boolean> {
    const ended = await this.end(await this.load(repository, id));
    if (ended && !isFresh(ended)) await this.discardAppend(ended, ended.append);
    return true;
  }

  /**
   * Ends an upload: its session goes, or for a signed id (see UploadIds) becomes the mark that keeps the id
   * unknown. Returns the state it ended (undefined when another request ended it first), whose bytes the
   * caller discards if they are garbage.
   */
  private async end(session: UploadSession): Promise<UploadSession | undefined> {
    const ttl = this.ids && UploadIds.isSigned(session.id) ? this.ids.markSeconds(session.createdAt) : 0;
    if (ttl === 0) return (await this.sessions.delete(session.id)) ? session : undefined;
    let current: UploadSession | undefined = session;
    for (let attempt = 0; attempt < 10; attempt++) {
      if (current?.ended) return undefined;
      const ended = current === undefined || isFresh(current)
        ? await this.sessions.create(this.endMark(current ?? session), ttl)
        : await this.sessions.compareAndSet(current.id, current.version, this.endMark(current), ttl);
      if (ended) return current ?? session;
      current = await this.sessions.get(session.id);
    }
    throw new Error(`upload ${session.id} kept changing while it was being ended`);
  }

  /** For a signed id issued for `repository`: its fresh session and the mark ending it, if the mark could be stored first. */
  private async claimFresh(repository: string, id: string): Promise<{ fresh: UploadSession; mark: UploadSession } | undefined> {
    const fresh = await this.freshSession(repository, id);
    if (!fresh) return undefined;
    const mark = this.endMark(fresh);
    return (await this.sessions.create(mark, this.markSeconds(fresh))) ? { fresh, mark } : undefined;
  }

  /** Whether ending the upload leaves a mark (a signed id), rather than removing its session. */
  private endsWithMark(session: UploadSession): boolean {
    return this.ids !== undefined && UploadIds.isSigned(session.id) && this.ids.markSeconds(session.createdAt) > 0;
  }

  /** How long the mark of a fresh upload stays: until its id is no longer valid (at least a second: it is valid now). */
  private markSeconds(fresh: UploadSession): number {
    return Math.max(1, this.ids?.markSeconds(fresh.createdAt) ?? 0);
  }

  private endMark(session: UploadSession): UploadSession {
    return { ...this.touch(session, { lease: undefined }), ended: true };
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
    if (!isFresh(session)) await this.discardAppend(session, session.append);
  }

  /** The upload's session: the stored one, or for a signed id issued for this repository and never written to, a fresh one. */
  private async load(repository: string, id: string): Promise<UploadSession> {
    const stored = /^[a-zA-Z0-9-]{1,64}$/.test(id) ? await this.sessions.get(id) : undefined;
    if (stored) {
      if (stored.ended || stored.repository !== repository) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      return stored;
    }
    const fresh = await this.freshSession(repository, id);
    if (!fresh) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
    return fresh;
  }

  /** The session of an upload issued with a signed id and never written to, if `id` is one this registry issued for `repository`. */
  private async freshSession(repository: string, id: string): Promise<UploadSession | undefined> {
    const issuedAt = this.ids?.issuedAt(repository, id);
    if (issuedAt === undefined) return undefined;
    const storageKey = blobKey(id);
    return { id, repository, storageKey, append: await this.store.startAppend(storageKey), version: 0, createdAt: issuedAt, updatedAt: issuedAt };
  }

  private async loadLeased(repository: string, id: string, leaseToken: string): Promise<UploadSession> {
    const session = await this.load(repository, id);
    if (session.lease?.token !== leaseToken) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'the upload changed while this request was writing to it', { id });
    }
    return session;
  }

  /** Stores `next` in place of `current` if nothing changed it meanwhile (a fresh upload: if none stored it meanwhile). */
  private async replace(current: UploadSession, next: UploadSession, ttl = this.config.uploads.ttlSeconds): Promise<void> {
    const replaced = isFresh(current) ? await this.sessions.create(next, ttl) : await this.sessions.compareAndSet(current.id, current.version, next, ttl);
    if (!replaced) throw new RegistryError('RANGE_INVALID', 'another request changed this upload', { offset: current.append.size });
  }

  private touch(session: UploadSession, changes: Partial<UploadSession>): UploadSession {
    return { ...session, ...changes, version: session.version + 1, updatedAt: Date.now() };
  }

  private newLease(): { token: string; expiresAt: number } {
    return { token: randomBytes(16).toString('hex'), expiresAt: Date.now() + this.config.uploads.leaseSeconds * 1000 };
  }
}

/** An upload issued with a signed id and never written to: nothing of it is stored (see UploadIds). */
function isFresh(session: UploadSession): boolean {
  return session.version === 0;
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
