export type {
  BlobMetadata,
  BlobRecord,
  ManifestMetadata,
  ManifestRecord,
  Metadata,
  NewManifest,
  Page,
  ReferrersQuery,
  RepositoryMetadata,
  SqlClient,
  SqlResult,
} from './ports';
export { migrate } from './migrate';
export { migrations, type Migration } from './migrations';
export { createMetadata } from './create-metadata';
export { BlobRepository } from './blob.repository';
export { ManifestRepository } from './manifest.repository';
export { RepositoryRepository } from './repository.repository';
export { inSavepoint } from './savepoint';
