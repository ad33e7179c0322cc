import type { BlobMetadata, BlobRecord, SqlClient } from './ports';
import { ensureRepositoryId } from './repository-ids';
import { BLOB_COLUMNS, toBlobRecord, type BlobRow } from './rows';

const SELECT_LINKED_BLOB = `
  SELECT ${BLOB_COLUMNS}
  FROM blobs b
  JOIN repository_blobs rb ON rb.digest = b.digest
  JOIN repositories r ON r.id = rb.repository_id
  WHERE r.name = $1 AND b.digest = $2`;

/** The blob aggregate: global blob records (deduplicated by digest) and their per-repository links. */
export class BlobRepository implements BlobMetadata {
  constructor(private readonly sql: SqlClient) {}

  async commitBlob(repository: string, blob: BlobRecord): Promise<{ blob: BlobRecord; created: boolean }> {
    return this.sql.transaction(async (tx) => {
      const repositoryId = await ensureRepositoryId(tx, repository);
      // No conflict target: a racing commit of the same digest (even with the same storage key) does nothing
      // here once the other commits; a storage key already used by another digest is caught just below.
      const inserted = await tx.query(
        'INSERT INTO blobs (digest, size, storage_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [blob.digest, blob.size, blob.storageKey],
      );
      const stored = await findBlobIn(tx, blob.digest);
      if (!stored) throw new Error(`storage key '${blob.storageKey}' is already recorded for another blob`);
      await tx.query(
        'INSERT INTO repository_blobs (repository_id, digest) VALUES ($1::bigint, $2) ON CONFLICT DO NOTHING',
        [repositoryId, blob.digest],
      );
      return { blob: stored, created: inserted.rowCount > 0 };
    });
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
