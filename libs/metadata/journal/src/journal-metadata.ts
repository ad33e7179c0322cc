import { mkdir } from 'node:fs/promises';
import type {
  BlobMetadata,
  BlobRecord,
  ManifestMetadata,
  ManifestRecord,
  Metadata,
  NewManifest,
  Page,
  ReferrersQuery,
  RepositoryMetadata,
} from '@ocireg/metadata';
import { JournalLog, type JournalStats } from './journal-log';
import { acquireLock } from './lock';
import { loadJournal, snapshotBody } from './open-journal';
import type { JournalRecord } from './records';
import type { MetadataState } from './state';

export interface JournalMetadataOptions {
  /** Directory of the snapshot, journal and lock files (created when missing). */
  directory: string;
  /** Journal size that triggers a compaction into a snapshot; 64 MiB by default. */
  compactionBytes?: number;
}

export const DEFAULT_COMPACTION_BYTES = 64 * 1024 * 1024;

/**
 * The embedded metadata without SQL: the whole state in memory (state.ts), every mutation appended to a
 * journal and acknowledged once an fdatasync covers it (journal-log.ts: group commit), compacted into
 * snapshots (layout.ts), one process at a time (lock.ts). A mutation is validated and applied in memory in one
 * synchronous step, so it sees every earlier one; it resolves when durable. Reads answer from memory (they may
 * see a mutation whose sync is still in flight). After a failed write or sync every call fails.
 */
export class JournalMetadata implements Metadata {
  readonly blobs: BlobMetadata;
  readonly manifests: ManifestMetadata;
  readonly repositories: RepositoryMetadata;

  private constructor(
    private readonly state: MetadataState,
    private readonly log: JournalLog,
    private readonly releaseLock: () => Promise<void>,
    /** Bytes of a torn or corrupt journal tail dropped when opening. */
    readonly droppedBytes: number,
  ) {
    this.blobs = new JournalBlobs(this);
    this.manifests = new JournalManifests(this);
    this.repositories = { listRepositories: async (page) => this.read((s) => s.listRepositories(page)) };
  }

  /** Opens (creating when new) the store in `options.directory`; fails when another process holds it. */
  static async open(options: JournalMetadataOptions): Promise<JournalMetadata> {
    await mkdir(options.directory, { recursive: true });
    const releaseLock = await acquireLock(options.directory);
    try {
      const loaded = await loadJournal(options.directory);
      const log = new JournalLog({
        directory: options.directory,
        generation: loaded.generation,
        handle: loaded.handle,
        size: loaded.size,
        compactionBytes: options.compactionBytes ?? DEFAULT_COMPACTION_BYTES,
        snapshot: (generation) => snapshotBody(loaded.state, generation),
      });
      return new JournalMetadata(loaded.state, log, releaseLock, loaded.droppedBytes);
    } catch (error) {
      await releaseLock();
      throw error;
    }
  }

  get stats(): JournalStats {
    return this.log.stats;
  }

  /** Throws when the store can no longer be used (a failed write or sync, or closed): the readiness check. */
  check(): void {
    this.log.ensureUsable();
  }

  /** Makes pending records durable, closes the journal and releases the lock. */
  async close(): Promise<void> {
    try {
      await this.log.close();
    } finally {
      await this.releaseLock();
    }
  }

  /** A read of the state, refused once the store failed or closed. */
  read<T>(reader: (state: MetadataState) => T): T {
    this.log.ensureUsable();
    return reader(this.state);
  }

  /**
   * Applies a validated record and resolves with `result` once it is durable. A record that changes nothing
   * is not written, but the call still waits for the records it may have seen.
   */
  commit<T>(record: JournalRecord, result: T): Promise<T> {
    this.log.ensureUsable();
    if (!this.state.changes(record)) return this.log.barrier().then(() => result);
    this.state.apply(record);
    return this.log.append(JSON.stringify(record)).then(() => result);
  }
}

class JournalBlobs implements BlobMetadata {
  constructor(private readonly store: JournalMetadata) {}

  async commitBlob(repository: string, blob: BlobRecord): Promise<{ blob: BlobRecord; created: boolean }> {
    const existing = this.store.read((state) => {
      state.checkBlob(blob);
      return state.findBlob(blob.digest);
    });
    const record = { digest: blob.digest, size: blob.size, storageKey: blob.storageKey };
    return this.store.commit({ op: 'commitBlob', repository, blob: record }, { blob: existing ?? { ...record }, created: existing === undefined });
  }

  async findLinkedBlob(repository: string, digest: string): Promise<BlobRecord | undefined> {
    return this.store.read((state) => state.findLinkedBlob(repository, digest));
  }

  async findBlob(digest: string): Promise<BlobRecord | undefined> {
    return this.store.read((state) => state.findBlob(digest));
  }

  async mountBlob(repository: string, digest: string, from: string): Promise<BlobRecord | undefined> {
    const source = this.store.read((state) => state.findLinkedBlob(from, digest));
    if (!source) return undefined;
    return this.store.commit({ op: 'mountBlob', repository, digest }, source);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const linked = this.store.read((state) => state.isBlobLinked(repository, digest));
    return this.store.commit({ op: 'unlinkBlob', repository, digest }, linked);
  }

  async listBlobRepositories(digest: string, limit: number): Promise<string[]> {
    return this.store.read((state) => state.listBlobRepositories(digest, limit));
  }
}

class JournalManifests implements ManifestMetadata {
  /** The journal's state lives in memory: a manifest's bytes stay in the content store (copyNewManifest drops them). */
  readonly keepsBodies = false;

  constructor(private readonly store: JournalMetadata) {}

  async putManifest(repository: string, manifest: NewManifest, tag?: string): Promise<{ missing: string[] }> {
    const missing = this.store.read((state) => {
      const absent = state.missingReferences(repository, manifest);
      if (absent.length === 0) state.checkManifest(manifest);
      return absent;
    });
    if (missing.length > 0) return { missing };
    const record: JournalRecord = { op: 'putManifest', repository, manifest: copyNewManifest(manifest) };
    if (tag !== undefined) record.tag = tag;
    return this.store.commit(record, { missing: [] });
  }

  async findManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    return this.store.read((state) => state.findManifest(repository, digest));
  }

  async resolveTag(repository: string, tag: string): Promise<ManifestRecord | undefined> {
    return this.store.read((state) => state.resolveTag(repository, tag));
  }

  async listTags(repository: string, page: Page): Promise<string[] | undefined> {
    return this.store.read((state) => state.listTags(repository, page));
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const existed = this.store.read((state) => state.resolveTagDigest(repository, tag) !== undefined);
    return this.store.commit({ op: 'deleteTag', repository, tag }, existed);
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const linked = this.store.read((state) => state.isManifestLinked(repository, digest));
    return this.store.commit({ op: 'deleteManifest', repository, digest }, linked);
  }

  async listReferrers(repository: string, subject: string, query: ReferrersQuery = {}): Promise<ManifestRecord[]> {
    return this.store.read((state) => state.listReferrers(repository, subject, query));
  }
}

/** The fields of a NewManifest only (callers may pass objects with more), with arrays copied. */
function copyNewManifest(manifest: NewManifest): NewManifest {
  const copy: NewManifest = {
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    size: manifest.size,
    storageKey: manifest.storageKey,
    blobs: [...manifest.blobs],
    manifests: [...manifest.manifests],
  };
  if (manifest.subject !== undefined) copy.subject = manifest.subject;
  if (manifest.artifactType !== undefined) copy.artifactType = manifest.artifactType;
  if (manifest.annotations !== undefined) copy.annotations = { ...manifest.annotations };
  return copy;
}
