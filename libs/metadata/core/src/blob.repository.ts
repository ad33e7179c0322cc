import type { BlobMetadata, BlobRecord, SqlClient } from './ports';
import { ensureRepositoryId } from './repository-ids';
import { BLOB_COLUMNS, type BigintValue, toBlobRecord, type BlobRow } from './rows';

const SELECT_LINKED_BLOB = `
  SELECT ${BLOB_COLUMNS}
  FROM blobs b
  JOIN repository_blobs rb ON rb.digest = b.digest
  JOIN repositories r ON r.id = rb.repository_id
  WHERE r.name = $1 AND b.digest = $2`;

/** The blob aggregate: global blob records (deduplicated by digest) and their per-repository links. */
export class BlobRepository implements BlobMetadata {
  constructor(private readonly sql: SqlClient) {}

  /** One call of ocireg_commit_blob (migration 2): the blob record (the first of a digest wins) and its link. */
  async commitBlob(repository: string, blob: BlobRecord): Promise<{ blob: BlobRecord; created: boolean }> {
    const result = await this.sql.query<{ blob_digest: string; blob_size: BigintValue; blob_storage_key: string; created: boolean }>(
      'SELECT * FROM ocireg_commit_blob($1, $2, $3, $4)',
      [repository, blob.digest, blob.size, blob.storageKey],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`blob ${blob.digest} was not recorded`);
    return {
      blob: toBlobRecord({ digest: row.blob_digest, size: row.blob_size, storage_key: row.blob_storage_key }),
      created: row.created,
    };
  }

  async findLinkedBlob(repository: string, digest: string): Promise<BlobRecord | undefined> {
    const result = await this.sql.query<BlobRow>(SELECT_LINKED_BLOB, [repository, digest]);
    const row = result.rows[0];
    return row ? toBlobRecord(row) : undefined;
  }

  async findBlob(digest: string): Promise<BlobRecord | undefined> {
    return findBlobIn(this.sql, digest);
  }

  async mountBlob(repository: string, digest: string, from: string): Promise<BlobRecord | undefined> {
    if (repository === from) return this.findLinkedBlob(repository, digest);
    return this.sql.transaction(async (tx) => {
      // FOR SHARE keeps the source link from being removed until the new link is committed.
      const source = await tx.query<BlobRow>(`${SELECT_LINKED_BLOB} FOR SHARE OF rb`, [from, digest]);
      const row = source.rows[0];
      if (!row) return undefined;
      const repositoryId = await ensureRepositoryId(tx, repository);
      await tx.query(
        'INSERT INTO repository_blobs (repository_id, digest) VALUES ($1::bigint, $2) ON CONFLICT DO NOTHING',
        [repositoryId, digest],
      );
      return toBlobRecord(row);
    });
  }

  async listBlobRepositories(digest: string, limit: number): Promise<string[]> {
    const result = await this.sql.query<{ name: string }>(
      `SELECT r.name FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
       WHERE rb.digest = $1 ORDER BY r.name COLLATE "C" LIMIT $2::bigint`,
      [digest, limit],
    );
    return result.rows.map((row) => row.name);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const result = await this.sql.query(
      `DELETE FROM repository_blobs rb
       USING repositories r
       WHERE r.id = rb.repository_id AND r.name = $1 AND rb.digest = $2`,
      [repository, digest],
    );
    return result.rowCount > 0;
  }
}

async function findBlobIn(sql: SqlClient, digest: string): Promise<BlobRecord | undefined> {
  const result = await sql.query<BlobRow>(`SELECT ${BLOB_COLUMNS} FROM blobs b WHERE b.digest = $1`, [digest]);
  const row = result.rows[0];
  return row ? toBlobRecord(row) : undefined;
}
