import { BlobRepository } from './blob.repository';
import { ManifestRepository } from './manifest.repository';
import type { Metadata, SqlClient } from './ports';
import { RepositoryRepository } from './repository.repository';

/** The metadata aggregates over one SqlClient (run `migrate` on it first). */
export function createMetadata(sql: SqlClient): Metadata {
  return {
    blobs: new BlobRepository(sql),
    manifests: new ManifestRepository(sql),
    repositories: new RepositoryRepository(sql),
  };
}
