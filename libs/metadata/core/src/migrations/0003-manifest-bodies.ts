import type { Migration } from './migration';

/**
 * Manifests' bytes in their row. A manifest PUT wrote a file into the content store (a create, a synced
 * write, a close and a rename, each a system call or a trip through the thread pool) before its row, which
 * was then durable a second time in the database's own log: the registry's processes spent 2.3-2.7 ms of
 * CPU per manifest PUT under 32 concurrent ones, 1.6-1.9 ms without the file (distributed, measured). The
 * bytes of a manifest now go into its row in the same statement (`body`, NULL for a manifest recorded
 * before, whose file stays where it is), and the content store holds only the manifests too large to send
 * along (see MANIFEST_INLINE_MAX).
 *
 * ocireg_put_manifest gets the bytes as its last argument; the form without it stays, for processes of the
 * previous version still running during an upgrade (they keep writing files, which still serve). The new
 * form also skips the statements the usual push does not need: the lookup of links for an empty list of
 * references, the computation of the missing ones when every reference is linked, and the check for a
 * conflicting storage key when the record was inserted: 0.57-0.59 ms per call against 0.81-0.86 for the
 * form of migration 2 (one client, one image manifest after another, synchronous_commit off to leave the
 * disk out).
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
      inserted integer;
    BEGIN
      SELECT id INTO repo FROM repositories WHERE name = p_repository;
      IF repo IS NULL THEN
        missing := p_blobs || p_manifests;
      ELSE
        -- An image manifest references no manifests and an index no blobs: no query for an empty list.
        linked_blobs := '{}';
        linked_manifests := '{}';
        IF cardinality(p_blobs) > 0 THEN
          SELECT coalesce(array_agg(l.digest), '{}') INTO linked_blobs FROM (
            SELECT rb.digest FROM repository_blobs rb
            WHERE rb.repository_id = repo AND rb.digest = ANY(p_blobs) FOR SHARE
          ) l;
        END IF;
        IF cardinality(p_manifests) > 0 THEN
          SELECT coalesce(array_agg(l.digest), '{}') INTO linked_manifests FROM (
            SELECT rm.digest FROM repository_manifests rm
            WHERE rm.repository_id = repo AND rm.digest = ANY(p_manifests) FOR SHARE
          ) l;
        END IF;
        -- A link is one row per digest: as many links as (distinct) references means none is missing.
        IF cardinality(linked_blobs) = cardinality(p_blobs) AND cardinality(linked_manifests) = cardinality(p_manifests) THEN
          missing := '{}';
        ELSE
          missing := ARRAY(
            SELECT w.d FROM unnest(p_blobs) WITH ORDINALITY AS w (d, o) WHERE NOT w.d = ANY(linked_blobs) ORDER BY w.o
          ) || ARRAY(
            SELECT w.d FROM unnest(p_manifests) WITH ORDINALITY AS w (d, o) WHERE NOT w.d = ANY(linked_manifests) ORDER BY w.o
          );
        END IF;
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
      GET DIAGNOSTICS inserted = ROW_COUNT;
      IF inserted = 0 AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = p_digest) THEN
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
