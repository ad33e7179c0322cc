import type { BlobMetadata, ManifestMetadata, Metadata, RepositoryMetadata } from '@ocireg/metadata';
import type { DatabaseMetrics, Tracer } from '@ocireg/observability';
import { timedDatabaseCall } from './instrumented-sql';

/**
 * A Metadata decorator for adapters without SQL (the journal store): every call is timed in the database
 * metrics with the method as `operation` (failures counted), and with a tracer is a client span
 * `db <method>` carrying `db.system.name` (`journal`) and `db.operation.name`, as InstrumentedSqlClient does
 * for each statement of the SQL adapters.
 */
export class InstrumentedMetadata implements Metadata {
  readonly blobs: BlobMetadata;
  readonly manifests: ManifestMetadata;
  readonly repositories: RepositoryMetadata;

  constructor(
    inner: Metadata,
    private readonly metrics: DatabaseMetrics,
    private readonly tracer?: Tracer,
    private readonly system = 'journal',
  ) {
    const { blobs, manifests, repositories } = inner;
    this.blobs = {
      commitBlob: (repository, blob) => this.timed('commitBlob', () => blobs.commitBlob(repository, blob)),
      findLinkedBlob: (repository, digest) => this.timed('findLinkedBlob', () => blobs.findLinkedBlob(repository, digest)),
      findBlob: (digest) => this.timed('findBlob', () => blobs.findBlob(digest)),
      mountBlob: (repository, digest, from) => this.timed('mountBlob', () => blobs.mountBlob(repository, digest, from)),
      unlinkBlob: (repository, digest) => this.timed('unlinkBlob', () => blobs.unlinkBlob(repository, digest)),
      listBlobRepositories: (digest, limit) => this.timed('listBlobRepositories', () => blobs.listBlobRepositories(digest, limit)),
    };
    this.manifests = {
      keepsBodies: manifests.keepsBodies,
      putManifest: (repository, manifest, tag) => this.timed('putManifest', () => manifests.putManifest(repository, manifest, tag)),
      findManifest: (repository, digest) => this.timed('findManifest', () => manifests.findManifest(repository, digest)),
      resolveTag: (repository, tag) => this.timed('resolveTag', () => manifests.resolveTag(repository, tag)),
      listTags: (repository, page) => this.timed('listTags', () => manifests.listTags(repository, page)),
      deleteTag: (repository, tag) => this.timed('deleteTag', () => manifests.deleteTag(repository, tag)),
      deleteManifest: (repository, digest) => this.timed('deleteManifest', () => manifests.deleteManifest(repository, digest)),
      listReferrers: (repository, subject, query) => this.timed('listReferrers', () => manifests.listReferrers(repository, subject, query)),
    };
    this.repositories = {
      listRepositories: (page) => this.timed('listRepositories', () => repositories.listRepositories(page)),
    };
  }

  private timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return timedDatabaseCall({ metrics: this.metrics, tracer: this.tracer, system: this.system }, operation, run);
  }
}
