import type { Migration } from './migration';

/** The first schema: repositories, blobs, manifests, their per-repository links, references and tags. */
export const initialMigration: Migration = {
  version: 1,
  name: 'initial',
  statements: [
    `CREATE TABLE repositories (
      id bigserial PRIMARY KEY,
      name text COLLATE "C" NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE blobs (
      digest text PRIMARY KEY,
      size bigint NOT NULL CHECK (size >= 0),
      storage_key text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE repository_blobs (
      repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
      digest text NOT NULL REFERENCES blobs (digest),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (repository_id, digest)
    )`,
    `CREATE INDEX repository_blobs_digest_idx ON repository_blobs (digest)`,
    `CREATE TABLE manifests (
      digest text PRIMARY KEY,
      media_type text NOT NULL,
      size bigint NOT NULL CHECK (size >= 0),
      storage_key text NOT NULL UNIQUE,
      subject text NULL,
      artifact_type text NULL,
      annotations jsonb NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX manifests_subject_idx ON manifests (subject) WHERE subject IS NOT NULL`,
    `CREATE TABLE repository_manifests (
      repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
      digest text NOT NULL REFERENCES manifests (digest),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (repository_id, digest)
    )`,
    `CREATE INDEX repository_manifests_digest_idx ON repository_manifests (digest)`,
    `CREATE TABLE manifest_references (
      repository_id bigint NOT NULL,
      parent_digest text NOT NULL,
      child_digest text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('blob', 'manifest')),
      PRIMARY KEY (repository_id, parent_digest, kind, child_digest),
      FOREIGN KEY (repository_id, parent_digest)
        REFERENCES repository_manifests (repository_id, digest) ON DELETE CASCADE
    )`,
    `CREATE INDEX manifest_references_child_idx ON manifest_references (child_digest, kind, repository_id)`,
    `CREATE TABLE tags (
      repository_id bigint NOT NULL,
      name text COLLATE "C" NOT NULL,
      manifest_digest text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (repository_id, name),
      FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES repository_manifests (repository_id, digest) ON DELETE CASCADE
    )`,
    `CREATE INDEX tags_manifest_idx ON tags (repository_id, manifest_digest)`,
  ],
};
