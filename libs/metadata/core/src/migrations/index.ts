import { initialMigration } from './0001-initial';
import { writeFunctionsMigration } from './0002-write-functions';
import { manifestBodiesMigration } from './0003-manifest-bodies';
import type { Migration } from './migration';

/*
 * THE METADATA SCHEMA (the persistent layout; every change is a new numbered file listed below, never an
 * edit of an applied one). Postgres is the source of truth for what exists where; the bytes live in the
 * content store under `storage_key`.
 *
 * schema_migrations(version int PK, name text, applied_at timestamptz)
 *     Written by `migrate()` only: one row per applied migration.
 *
 * repositories(id bigserial PK, name text COLLATE "C" UNIQUE, created_at)
 *     Created on first push or mount. Names compare in byte order (COLLATE "C"), which is the catalog order.
 *
 * blobs(digest text PK, size bigint, storage_key text UNIQUE, created_at)
 *     Verified content, stored once globally (dedup by digest): the first committed record wins.
 *
 * repository_blobs(repository_id FK, digest FK blobs, created_at, PK(repository_id, digest))
 *     A blob is visible in a repository only through this link. Index on digest: who links a blob (GC).
 *
 * manifests(digest text PK, media_type, size bigint, storage_key text UNIQUE, subject text NULL,
 *           artifact_type text NULL, annotations jsonb NULL, created_at, body bytea NULL)
 *     Global by digest like blobs. Partial index on subject: the referrers lookup (joined with the links).
 *     `body` (migration 3): the manifest's bytes, when they came along; NULL: they are in the content store.
 *
 * repository_manifests(repository_id FK, digest FK manifests, created_at, PK(repository_id, digest))
 *     A manifest is visible in a repository only through this link. Deleting the link cascades to the
 *     repository's tags for it and to its manifest_references rows.
 *
 * manifest_references(repository_id, parent_digest, child_digest, kind 'blob'|'manifest',
 *                     PK(repository_id, parent_digest, kind, child_digest),
 *                     FK(repository_id, parent_digest) -> repository_manifests ON DELETE CASCADE)
 *     What each linked manifest references in that repository (config, layers, index children): what GC
 *     must keep. Index on (child_digest, kind, repository_id): is this blob/manifest still referenced?
 *
 * tags(repository_id, name text COLLATE "C", manifest_digest, updated_at, PK(repository_id, name),
 *      FK(repository_id, manifest_digest) -> repository_manifests ON DELETE CASCADE)
 *     Index on (repository_id, manifest_digest): the tags of a manifest.
 *
 * Sizes are bigint (node-postgres returns them as strings; the repositories convert them to numbers).
 *
 * Functions (migration 2): ocireg_repository_id(name), ocireg_commit_blob(...) and ocireg_put_manifest(...),
 *     the writes of a push, one round trip each (see 0002-write-functions.ts); migration 3 adds the form of
 *     ocireg_put_manifest that takes the manifest's bytes.
 */

/** Every migration, in the order they apply. */
export const migrations: readonly Migration[] = [initialMigration, writeFunctionsMigration, manifestBodiesMigration];

export type { Migration } from './migration';
