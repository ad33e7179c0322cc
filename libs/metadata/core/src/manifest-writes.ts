import type { NewManifest, SqlClient } from './ports';
import type { RepositoryId } from './repository-ids';
import { distinct } from './rows';

/**
 * The references of `manifest` that the repository does not link, blobs first then manifests, each in the
 * order given. The links found are locked (FOR SHARE) so they cannot be removed before the caller commits.
 */
export async function findMissingReferences(
  tx: SqlClient,
  repositoryId: RepositoryId | undefined,
  manifest: NewManifest,
): Promise<string[]> {
  const blobs = distinct(manifest.blobs);
  const manifests = distinct(manifest.manifests);
  if (repositoryId === undefined) return [...blobs, ...manifests];
  const linkedBlobs = await lockLinks(tx, 'repository_blobs', repositoryId, blobs);
  const linkedManifests = await lockLinks(tx, 'repository_manifests', repositoryId, manifests);
  return [...blobs.filter((d) => !linkedBlobs.has(d)), ...manifests.filter((d) => !linkedManifests.has(d))];
}

async function lockLinks(
  tx: SqlClient,
  table: 'repository_blobs' | 'repository_manifests',
  repositoryId: RepositoryId,
  digests: string[],
): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const result = await tx.query<{ digest: string }>(
    `SELECT digest FROM ${table} WHERE repository_id = $1::bigint AND digest = ANY($2::text[]) FOR SHARE`,
    [repositoryId, digests],
  );
  return new Set(result.rows.map((row) => row.digest));
}

/** Records the manifest globally (the first record of a digest wins) and links it to the repository. */
export async function recordManifest(tx: SqlClient, repositoryId: RepositoryId, manifest: NewManifest): Promise<void> {
  await tx.query(
    `INSERT INTO manifests (digest, media_type, size, storage_key, subject, artifact_type, annotations)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
     ON CONFLICT DO NOTHING`,
    [
      manifest.digest,
      manifest.mediaType,
      manifest.size,
      manifest.storageKey,
      manifest.subject ?? null,
      manifest.artifactType ?? null,
      manifest.annotations === undefined ? null : JSON.stringify(manifest.annotations),
    ],
  );
  const stored = await tx.query('SELECT 1 FROM manifests WHERE digest = $1', [manifest.digest]);
  if (stored.rowCount === 0) {
    throw new Error(`storage key '${manifest.storageKey}' is already recorded for another manifest`);
  }
  await tx.query(
    'INSERT INTO repository_manifests (repository_id, digest) VALUES ($1::bigint, $2) ON CONFLICT DO NOTHING',
    [repositoryId, manifest.digest],
  );
  await recordReferences(tx, repositoryId, manifest.digest, 'blob', distinct(manifest.blobs));
  await recordReferences(tx, repositoryId, manifest.digest, 'manifest', distinct(manifest.manifests));
}

async function recordReferences(
  tx: SqlClient,
  repositoryId: RepositoryId,
  parent: string,
  kind: 'blob' | 'manifest',
  children: string[],
): Promise<void> {
  if (children.length === 0) return;
  await tx.query(
    `INSERT INTO manifest_references (repository_id, parent_digest, child_digest, kind)
     SELECT $1::bigint, $2::text, child, $3::text FROM unnest($4::text[]) AS child
     ON CONFLICT DO NOTHING`,
    [repositoryId, parent, kind, children],
  );
}

/** Points the tag at the manifest, moving it when it pointed elsewhere. */
export async function pointTag(tx: SqlClient, repositoryId: RepositoryId, tag: string, digest: string): Promise<void> {
  await tx.query(
    `INSERT INTO tags (repository_id, name, manifest_digest) VALUES ($1::bigint, $2, $3)
     ON CONFLICT (repository_id, name)
     DO UPDATE SET manifest_digest = EXCLUDED.manifest_digest, updated_at = now()`,
    [repositoryId, tag, digest],
  );
}
