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

/**
 * Records the manifest globally (the first record of a digest wins), links it to the repository with its
 * references and, given a tag, points the tag at it (moving it when it pointed elsewhere). Two statements:
 * the embedded database pays for each one.
 */
export async function recordManifest(tx: SqlClient, repositoryId: RepositoryId, manifest: NewManifest, tag?: string): Promise<void> {
  // The count sees rows that existed before the statement, the CTE those it inserted: 0 means the insert was
  // skipped for another conflict (the storage key is recorded for another digest).
  const stored = await tx.query<{ n: string | number }>(
    `WITH inserted AS (
       INSERT INTO manifests (digest, media_type, size, storage_key, subject, artifact_type, annotations)
       VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
       ON CONFLICT DO NOTHING
       RETURNING digest
     )
     SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM manifests WHERE digest = $1) AS n`,
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
  if (Number(stored.rows[0]?.n ?? 0) === 0) {
    throw new Error(`storage key '${manifest.storageKey}' is already recorded for another manifest`);
  }
  const blobs = distinct(manifest.blobs);
  const children = distinct(manifest.manifests);
  // Foreign keys are checked at the end of the statement, when the link the others need exists.
  await tx.query(
    `WITH link AS (
       INSERT INTO repository_manifests (repository_id, digest) VALUES ($1::bigint, $2) ON CONFLICT DO NOTHING
     ), refs AS (
       INSERT INTO manifest_references (repository_id, parent_digest, child_digest, kind)
       SELECT $1::bigint, $2::text, r.child, r.kind FROM unnest($3::text[], $4::text[]) AS r (child, kind)
       ON CONFLICT DO NOTHING
     )
     INSERT INTO tags (repository_id, name, manifest_digest)
     SELECT $1::bigint, $5::text, $2::text WHERE $5::text IS NOT NULL
     ON CONFLICT (repository_id, name)
     DO UPDATE SET manifest_digest = EXCLUDED.manifest_digest, updated_at = now()`,
    [
      repositoryId,
      manifest.digest,
      [...blobs, ...children],
      [...blobs.map(() => 'blob'), ...children.map(() => 'manifest')],
      tag ?? null,
    ],
  );
}
