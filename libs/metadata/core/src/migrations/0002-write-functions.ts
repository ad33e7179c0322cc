import type { Migration } from './migration';

/**
 * The two writes of every push as server-side functions: committing a blob and recording a manifest each took
 * five to seven round trips to the database (BEGIN, a statement per step, COMMIT), and every round trip costs
 * both processes a socket write and a wake-up. A function call is one statement: one round trip, atomic on its
 * own. Each statement inside a function sees what concurrent transactions committed before it (READ
 * COMMITTED), as the separate statements did.
 */
export const writeFunctionsMigration: Migration = {
  version: 2,
  name: 'write-functions',
  statements: [
    // The repository's id, creating it when new. A racing insert of the same name makes ours do nothing
    // (after waiting for it to commit), and the next statement then sees it.
    `CREATE FUNCTION ocireg_repository_id(p_name text) RETURNS bigint
    LANGUAGE plpgsql AS $fn$
    DECLARE
      repo bigint;
    BEGIN
      SELECT id INTO repo FROM repositories WHERE name = p_name;
      IF repo IS NULL THEN
        INSERT INTO repositories (name) VALUES (p_name) ON CONFLICT (name) DO NOTHING RETURNING id INTO repo;
      END IF;
      IF repo IS NULL THEN
        SELECT id INTO repo FROM repositories WHERE name = p_name;
      END IF;
      IF repo IS NULL THEN
        RAISE EXCEPTION 'repository ''%'' could not be created', p_name;
      END IF;
      RETURN repo;
    END
    $fn$`,
    // Records a verified blob (the first record of a digest wins) and links it to the repository.
    `CREATE FUNCTION ocireg_commit_blob(p_repository text, p_digest text, p_size bigint, p_storage_key text)
    RETURNS TABLE (blob_digest text, blob_size bigint, blob_storage_key text, created boolean)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      repo bigint := ocireg_repository_id(p_repository);
      inserted integer;
    BEGIN
      -- No conflict target: a racing commit of the same digest does nothing here once the other commits.
      INSERT INTO blobs (digest, size, storage_key) VALUES (p_digest, p_size, p_storage_key) ON CONFLICT DO NOTHING;
      GET DIAGNOSTICS inserted = ROW_COUNT;
      RETURN QUERY SELECT b.digest, b.size, b.storage_key, inserted > 0 FROM blobs b WHERE b.digest = p_digest;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'storage key ''%'' is already recorded for another blob', p_storage_key;
      END IF;
      INSERT INTO repository_blobs (repository_id, digest) VALUES (repo, p_digest) ON CONFLICT DO NOTHING;
    END
    $fn$`,
    // Records a manifest whose references the repository links (locking those links until the commit), links
    // it with its references and, given a tag, points the tag at it. Returns the references the repository
    // does not link, blobs then manifests, each in the order given: nothing is written unless that is empty.
    `CREATE FUNCTION ocireg_put_manifest(
      p_repository text, p_digest text, p_media_type text, p_size bigint, p_storage_key text, p_subject text,
      p_artifact_type text, p_annotations text, p_blobs text[], p_manifests text[], p_tag text
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
      INSERT INTO manifests (digest, media_type, size, storage_key, subject, artifact_type, annotations)
      VALUES (p_digest, p_media_type, p_size, p_storage_key, p_subject, p_artifact_type, p_annotations::jsonb)
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
