import type { ManifestMetadata, ManifestRecord, NewManifest, Page, ReferrersQuery, SqlClient } from './ports';
import { findRepositoryId } from './repository-ids';
import { MANIFEST_COLUMNS, MANIFEST_COLUMNS_WITH_BODY, distinct, toManifestRecord, type ManifestRow } from './rows';

/** The manifest aggregate: global manifest records, their per-repository links and references, and tags. */
export class ManifestRepository implements ManifestMetadata {
  /** The bytes go into the manifest's row (migration 3). */
  readonly keepsBodies = true;

  constructor(private readonly sql: SqlClient) {}

  /**
   * One call of ocireg_put_manifest (migrations 2 and 3): the check of the references (their links locked),
   * the manifest record with its bytes (the first record of a digest wins), its link, its references and the
   * tag, atomically.
   */
  async putManifest(repository: string, manifest: NewManifest, tag?: string): Promise<{ missing: string[] }> {
    const result = await this.sql.query<{ missing: string[] }>(
      'SELECT ocireg_put_manifest($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::text[], $11, $12::bytea) AS missing',
      [
        repository,
        manifest.digest,
        manifest.mediaType,
        manifest.size,
        manifest.storageKey,
        manifest.subject ?? null,
        manifest.artifactType ?? null,
        manifest.annotations === undefined ? null : JSON.stringify(manifest.annotations),
        distinct(manifest.blobs),
        distinct(manifest.manifests),
        tag ?? null,
        manifest.body ?? null,
      ],
    );
    return { missing: result.rows[0]?.missing ?? [] };
  }

  async findManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const result = await this.sql.query<ManifestRow>(
      `SELECT ${MANIFEST_COLUMNS_WITH_BODY}
       FROM manifests m
       JOIN repository_manifests rm ON rm.digest = m.digest
       JOIN repositories r ON r.id = rm.repository_id
       WHERE r.name = $1 AND m.digest = $2`,
      [repository, digest],
    );
    const row = result.rows[0];
    return row ? toManifestRecord(row) : undefined;
  }

  async resolveTag(repository: string, tag: string): Promise<ManifestRecord | undefined> {
    const result = await this.sql.query<ManifestRow>(
      `SELECT ${MANIFEST_COLUMNS_WITH_BODY}
       FROM tags t
       JOIN repositories r ON r.id = t.repository_id
       JOIN manifests m ON m.digest = t.manifest_digest
       WHERE r.name = $1 AND t.name = $2`,
      [repository, tag],
    );
    const row = result.rows[0];
    return row ? toManifestRecord(row) : undefined;
  }

  async listTags(repository: string, page: Page): Promise<string[] | undefined> {
    const repositoryId = await findRepositoryId(this.sql, repository);
    if (repositoryId === undefined) return undefined;
    const after = page.last === undefined ? '' : 'AND name > $3';
    const params: unknown[] = [repositoryId, page.n ?? null];
    if (page.last !== undefined) params.push(page.last);
    const result = await this.sql.query<{ name: string }>(
      `SELECT name FROM tags WHERE repository_id = $1::bigint ${after} ORDER BY name LIMIT $2`,
      params,
    );
    return result.rows.map((row) => row.name);
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const result = await this.sql.query(
      `DELETE FROM tags t USING repositories r
       WHERE r.id = t.repository_id AND r.name = $1 AND t.name = $2`,
      [repository, tag],
    );
    return result.rowCount > 0;
  }

  /** Deleting the link cascades (foreign keys) to the repository's tags of the manifest and its references. */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const result = await this.sql.query(
      `DELETE FROM repository_manifests rm USING repositories r
       WHERE r.id = rm.repository_id AND r.name = $1 AND rm.digest = $2`,
      [repository, digest],
    );
    return result.rowCount > 0;
  }

  async listReferrers(repository: string, subject: string, query: ReferrersQuery = {}): Promise<ManifestRecord[]> {
    const params: unknown[] = [repository, subject, query.artifactType ?? null, query.last ?? null, query.n ?? null];
    const result = await this.sql.query<ManifestRow>(
      `SELECT ${MANIFEST_COLUMNS}
       FROM manifests m
       JOIN repository_manifests rm ON rm.digest = m.digest
       JOIN repositories r ON r.id = rm.repository_id
       WHERE r.name = $1 AND m.subject = $2
         AND ($3::text IS NULL OR m.artifact_type = $3::text)
         AND ($4::text IS NULL OR m.digest COLLATE "C" > $4::text)
       ORDER BY m.digest COLLATE "C"
       LIMIT $5::bigint`,
      params,
    );
    return result.rows.map(toManifestRecord);
  }
}
