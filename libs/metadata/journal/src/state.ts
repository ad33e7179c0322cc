import type { BlobRecord, ManifestRecord, NewManifest, Page, ReferrersQuery } from '@ocireg/metadata';
import { compareBytes, identity, pageOf, sortedBytes } from './byte-order';
import type { JournalRecord, SnapshotData, SnapshotRepository } from './records';

interface ManifestLink {
  blobs: string[];
  manifests: string[];
}

class RepositoryState {
  readonly blobs = new Set<string>();
  readonly manifests = new Map<string, ManifestLink>();
  readonly tags = new Map<string, string>();
  /** manifest digest → the tags pointing at it. */
  readonly tagsOf = new Map<string, Set<string>>();
  /** subject digest → linked manifests whose subject it is. */
  readonly referrers = new Map<string, Set<string>>();
  private sortedTags: string[] | undefined;

  constructor(readonly name: string) {}

  tagList(): string[] {
    this.sortedTags ??= sortedBytes(this.tags.keys());
    return this.sortedTags;
  }

  setTag(tag: string, digest: string): void {
    const previous = this.tags.get(tag);
    if (previous === digest) return;
    if (previous !== undefined) this.tagsOf.get(previous)?.delete(tag);
    else this.sortedTags = undefined;
    this.tags.set(tag, digest);
    let tags = this.tagsOf.get(digest);
    if (!tags) this.tagsOf.set(digest, (tags = new Set()));
    tags.add(tag);
  }

  removeTag(tag: string): boolean {
    const digest = this.tags.get(tag);
    if (digest === undefined) return false;
    this.tags.delete(tag);
    const tags = this.tagsOf.get(digest);
    tags?.delete(tag);
    if (tags?.size === 0) this.tagsOf.delete(digest);
    this.sortedTags = undefined;
    return true;
  }
}

function copyManifest(record: ManifestRecord): ManifestRecord {
  const copy: ManifestRecord = { digest: record.digest, mediaType: record.mediaType, size: record.size, storageKey: record.storageKey };
  if (record.subject !== undefined) copy.subject = record.subject;
  if (record.artifactType !== undefined) copy.artifactType = record.artifactType;
  if (record.annotations !== undefined) copy.annotations = { ...record.annotations };
  return copy;
}

function storedManifest(manifest: NewManifest): ManifestRecord {
  const { blobs: _blobs, manifests: _manifests, ...record } = manifest;
  return copyManifest(record);
}

/**
 * The whole metadata in memory, with the semantics of the SQL schema (libs/metadata/core): blob and manifest
 * records global by digest (the first record wins, storage keys unique per kind), per-repository links,
 * tags, and references. Reads are synchronous; `check*` methods validate a mutation without changing
 * anything, and `apply` changes the state for a validated record (the same at write time and at replay).
 */
export class MetadataState {
  private readonly blobs = new Map<string, BlobRecord>();
  private readonly blobKeys = new Map<string, string>();
  private readonly manifests = new Map<string, ManifestRecord>();
  private readonly manifestKeys = new Map<string, string>();
  private readonly repositories = new Map<string, RepositoryState>();
  /** blob digest → repositories linking it. */
  private readonly blobLinks = new Map<string, Set<string>>();
  private sortedRepositories: string[] | undefined;

  // Reads

  findBlob(digest: string): BlobRecord | undefined {
    const blob = this.blobs.get(digest);
    return blob && { ...blob };
  }

  findLinkedBlob(repository: string, digest: string): BlobRecord | undefined {
    return this.repositories.get(repository)?.blobs.has(digest) ? this.findBlob(digest) : undefined;
  }

  isBlobLinked(repository: string, digest: string): boolean {
    return this.repositories.get(repository)?.blobs.has(digest) === true;
  }

  listBlobRepositories(digest: string, limit: number): string[] {
    const names = this.blobLinks.get(digest);
    return names ? sortedBytes(names).slice(0, Math.max(0, limit)) : [];
  }

  findManifest(repository: string, digest: string): ManifestRecord | undefined {
    if (!this.repositories.get(repository)?.manifests.has(digest)) return undefined;
    const record = this.manifests.get(digest);
    return record && copyManifest(record);
  }

  isManifestLinked(repository: string, digest: string): boolean {
    return this.repositories.get(repository)?.manifests.has(digest) === true;
  }

  resolveTagDigest(repository: string, tag: string): string | undefined {
    return this.repositories.get(repository)?.tags.get(tag);
  }

  resolveTag(repository: string, tag: string): ManifestRecord | undefined {
    const digest = this.repositories.get(repository)?.tags.get(tag);
    return digest === undefined ? undefined : this.findManifest(repository, digest);
  }

  listTags(repository: string, page: Page): string[] | undefined {
    const state = this.repositories.get(repository);
    return state && pageOf(state.tagList(), page, identity);
  }

  listReferrers(repository: string, subject: string, query: ReferrersQuery): ManifestRecord[] {
    const digests = this.repositories.get(repository)?.referrers.get(subject);
    if (!digests) return [];
    const records: ManifestRecord[] = [];
    for (const digest of digests) {
      const record = this.manifests.get(digest);
      if (record && (query.artifactType === undefined || record.artifactType === query.artifactType)) records.push(record);
    }
    records.sort((a, b) => compareBytes(a.digest, b.digest));
    return pageOf(records, query, (record) => record.digest).map(copyManifest);
  }

  listRepositories(page: Page): string[] {
    this.sortedRepositories ??= sortedBytes(this.repositories.keys());
    return pageOf(this.sortedRepositories, page, identity);
  }

  // Validation

  /** Throws when the blob's storage key is recorded for another digest (the blobs.storage_key UNIQUE). */
  checkBlob(blob: BlobRecord): void {
    if (this.blobs.has(blob.digest)) return;
    const owner = this.blobKeys.get(blob.storageKey);
    if (owner !== undefined) throw new Error(`storage key '${blob.storageKey}' is already recorded for another blob`);
  }

  /** The references the repository does not link, blobs first then manifests, each distinct in given order. */
  missingReferences(repository: string, manifest: NewManifest): string[] {
    const state = this.repositories.get(repository);
    const blobs = [...new Set(manifest.blobs)].filter((digest) => !state?.blobs.has(digest));
    const children = [...new Set(manifest.manifests)].filter((digest) => !state?.manifests.has(digest));
    return [...blobs, ...children];
  }

  checkManifest(manifest: NewManifest): void {
    if (this.manifests.has(manifest.digest)) return;
    if (this.manifestKeys.has(manifest.storageKey)) {
      throw new Error(`storage key '${manifest.storageKey}' is already recorded for another manifest`);
    }
  }

  /** Whether applying the record would change anything (a record that would not is not written). */
  changes(record: JournalRecord): boolean {
    const state = this.repositories.get(record.repository);
    switch (record.op) {
      case 'commitBlob':
        return !this.blobs.has(record.blob.digest) || !state?.blobs.has(record.blob.digest);
      case 'mountBlob':
        return !state?.blobs.has(record.digest);
      case 'unlinkBlob':
        return state?.blobs.has(record.digest) === true;
      case 'putManifest':
        return (
          !this.manifests.has(record.manifest.digest) ||
          !state?.manifests.has(record.manifest.digest) ||
          (record.tag !== undefined && state.tags.get(record.tag) !== record.manifest.digest)
        );
      case 'deleteTag':
        return state?.tags.has(record.tag) === true;
      case 'deleteManifest':
        return state?.manifests.has(record.digest) === true;
    }
  }

  // Changes

  apply(record: JournalRecord): void {
    switch (record.op) {
      case 'commitBlob':
        this.recordBlob(record.blob);
        this.linkBlob(record.repository, record.blob.digest);
        return;
      case 'mountBlob':
        this.linkBlob(record.repository, record.digest);
        return;
      case 'unlinkBlob':
        this.unlinkBlob(record.repository, record.digest);
        return;
      case 'putManifest':
        this.putManifest(record.repository, record.manifest, record.tag);
        return;
      case 'deleteTag':
        this.repositories.get(record.repository)?.removeTag(record.tag);
        return;
      case 'deleteManifest':
        this.deleteManifest(record.repository, record.digest);
        return;
    }
  }

  private repository(name: string): RepositoryState {
    let state = this.repositories.get(name);
    if (!state) {
      state = new RepositoryState(name);
      this.repositories.set(name, state);
      this.sortedRepositories = undefined;
    }
    return state;
  }

  private recordBlob(blob: BlobRecord): void {
    if (this.blobs.has(blob.digest)) return;
    this.blobs.set(blob.digest, { digest: blob.digest, size: blob.size, storageKey: blob.storageKey });
    this.blobKeys.set(blob.storageKey, blob.digest);
  }

  private linkBlob(repository: string, digest: string): void {
    if (!this.blobs.has(digest)) throw new Error(`journal: blob ${digest} linked before it was recorded`);
    this.repository(repository).blobs.add(digest);
    let names = this.blobLinks.get(digest);
    if (!names) this.blobLinks.set(digest, (names = new Set()));
    names.add(repository);
  }

  private unlinkBlob(repository: string, digest: string): void {
    if (!this.repositories.get(repository)?.blobs.delete(digest)) return;
    const names = this.blobLinks.get(digest);
    names?.delete(repository);
    if (names?.size === 0) this.blobLinks.delete(digest);
  }

  private putManifest(repository: string, manifest: NewManifest, tag: string | undefined): void {
    if (!this.manifests.has(manifest.digest)) {
      this.manifests.set(manifest.digest, storedManifest(manifest));
      this.manifestKeys.set(manifest.storageKey, manifest.digest);
    }
    this.linkManifest(repository, manifest.digest, { blobs: [...new Set(manifest.blobs)], manifests: [...new Set(manifest.manifests)] });
    if (tag !== undefined) this.repository(repository).setTag(tag, manifest.digest);
  }

  private linkManifest(repository: string, digest: string, link: ManifestLink): void {
    const state = this.repository(repository);
    if (state.manifests.has(digest)) return;
    state.manifests.set(digest, link);
    // The subject is the global record's (the first record of the digest wins).
    const subject = this.manifests.get(digest)?.subject;
    if (subject === undefined) return;
    let referrers = state.referrers.get(subject);
    if (!referrers) state.referrers.set(subject, (referrers = new Set()));
    referrers.add(digest);
  }

  private deleteManifest(repository: string, digest: string): void {
    const state = this.repositories.get(repository);
    if (!state?.manifests.delete(digest)) return;
    for (const tag of [...(state.tagsOf.get(digest) ?? [])]) state.removeTag(tag);
    const subject = this.manifests.get(digest)?.subject;
    if (subject === undefined) return;
    const referrers = state.referrers.get(subject);
    referrers?.delete(digest);
    if (referrers?.size === 0) state.referrers.delete(subject);
  }

  // Snapshots

  toSnapshot(): SnapshotData {
    const repositories: SnapshotRepository[] = [];
    for (const state of this.repositories.values()) {
      repositories.push({
        name: state.name,
        blobs: [...state.blobs],
        manifests: [...state.manifests].map(([digest, link]) => ({ digest, blobs: link.blobs, manifests: link.manifests })),
        tags: [...state.tags],
      });
    }
    return { blobs: [...this.blobs.values()], manifests: [...this.manifests.values()], repositories };
  }

  static fromSnapshot(data: SnapshotData): MetadataState {
    const state = new MetadataState();
    for (const blob of data.blobs) state.recordBlob(blob);
    for (const manifest of data.manifests) {
      state.manifests.set(manifest.digest, copyManifest(manifest));
      state.manifestKeys.set(manifest.storageKey, manifest.digest);
    }
    for (const repository of data.repositories) {
      state.repository(repository.name);
      for (const digest of repository.blobs) state.linkBlob(repository.name, digest);
      for (const link of repository.manifests) {
        state.linkManifest(repository.name, link.digest, { blobs: link.blobs, manifests: link.manifests });
      }
      const repositoryState = state.repository(repository.name);
      for (const [tag, digest] of repository.tags) repositoryState.setTag(tag, digest);
    }
    return state;
  }
}
