/**
 * The metadata port: Postgres is the source of truth for what exists where. Two adapters (pg against a real
 * server, PGlite embedded) run the same migrations and the same SQL through the SqlClient below; the
 * repository classes on top are shared, and one contract suite runs them against both.
 */

export interface SqlResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** The only thing an adapter provides: parameterised queries ($1, $2...) and transactions. */
export interface SqlClient {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>>;
  /** Runs fn inside BEGIN/COMMIT on one connection (ROLLBACK when it throws). */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface BlobRecord {
  digest: string;
  size: number;
  storageKey: string;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  storageKey: string;
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  /**
   * The manifest's bytes, where the metadata keeps them (ManifestMetadata.keepsBodies): then they are the
   * manifest, and the content store need not hold it. Only findManifest and resolveTag return them.
   */
  body?: Buffer;
}

export interface NewManifest extends ManifestRecord {
  /** Blobs the manifest references that must be linked in the repository (config, layers). */
  blobs: string[];
  /** Manifests the manifest references that must be linked in the repository (index children). */
  manifests: string[];
}

export interface Page {
  /** Maximum number of results; undefined means all. */
  n?: number;
  /** Return only names lexically after this one. */
  last?: string;
}

export interface ReferrersQuery extends Page {
  artifactType?: string;
}

export interface BlobMetadata {
  /**
   * Records a verified blob (stored once globally, deduplicated by digest) and links it to the repository
   * (creating the repository when new). When the digest was already recorded, the existing record wins and
   * `created` is false: the caller then deletes its own copy of the bytes if its storageKey differs.
   */
  commitBlob(repository: string, blob: BlobRecord): Promise<{ blob: BlobRecord; created: boolean }>;
  /** The blob if, and only if, the repository links it. */
  findLinkedBlob(repository: string, digest: string): Promise<BlobRecord | undefined>;
  /** The blob record whatever repository links it (for automatic mounts and GC), or undefined. */
  findBlob(digest: string): Promise<BlobRecord | undefined>;
  /** Links a blob into `repository` when `from` links it; undefined (nothing written) otherwise. */
  mountBlob(repository: string, digest: string, from: string): Promise<BlobRecord | undefined>;
  /** Removes the repository's link to the blob; returns whether there was one. */
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  /** Repositories that link the blob, in lexical order, at most `limit` (sources for an automatic mount). */
  listBlobRepositories(digest: string, limit: number): Promise<string[]>;
}

export interface ManifestMetadata {
  /**
   * Whether putManifest keeps NewManifest.body (Postgres: a column of the manifest's row, durable with it)
   * and findManifest/resolveTag return it. When false, the body is ignored: the bytes must be in the content
   * store under storageKey before putManifest (the journal holds its state in memory, where bodies would grow
   * the process with every manifest ever pushed).
   */
  readonly keepsBodies: boolean;
  /**
   * In one transaction: when any of manifest.blobs / manifest.manifests is not linked in the repository,
   * writes nothing and returns them in `missing`. Otherwise records the manifest (global by digest), links
   * it to the repository (creating the repository when new), records its references and subject, and points
   * `tag` at it when given (moving the tag if it pointed elsewhere).
   */
  putManifest(repository: string, manifest: NewManifest, tag?: string): Promise<{ missing: string[] }>;
  /** The manifest if the repository links it. */
  findManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  /** The manifest a tag of the repository points at. */
  resolveTag(repository: string, tag: string): Promise<ManifestRecord | undefined>;
  /** Tags of a repository in lexical (byte) order, paginated; undefined when the repository is unknown. */
  listTags(repository: string, page: Page): Promise<string[] | undefined>;
  /** Removes one tag (the manifest and its other tags stay); returns whether it existed. */
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Unlinks a manifest from the repository and removes every tag pointing at it; whether it was linked. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  /**
   * Manifests linked in the repository whose subject is `subject`, optionally filtered by artifactType,
   * ordered by digest and paginated (`last` is a digest).
   */
  listReferrers(repository: string, subject: string, query?: ReferrersQuery): Promise<ManifestRecord[]>;
}

export interface RepositoryMetadata {
  /** Repository names in lexical order, paginated (the catalog). */
  listRepositories(page: Page): Promise<string[]>;
}

/** Everything the services need from the metadata database. */
export interface Metadata {
  readonly blobs: BlobMetadata;
  readonly manifests: ManifestMetadata;
  readonly repositories: RepositoryMetadata;
}
