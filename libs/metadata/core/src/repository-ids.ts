import type { SqlClient } from './ports';
import type { BigintValue } from './rows';

/** A repositories.id, kept as a decimal string (bigint-safe) and passed back as `$n::bigint`. */
export type RepositoryId = string;

export async function findRepositoryId(sql: SqlClient, name: string): Promise<RepositoryId | undefined> {
  const result = await sql.query<{ id: BigintValue }>('SELECT id FROM repositories WHERE name = $1', [name]);
  const row = result.rows[0];
  return row ? String(row.id) : undefined;
}

/**
 * The repository's id, creating it when new. Safe under concurrency: a racing insert of the same name makes
 * ours do nothing (after waiting for it to commit), and the following SELECT, a new statement, then sees it.
 */
export async function ensureRepositoryId(sql: SqlClient, name: string): Promise<RepositoryId> {
  const existing = await findRepositoryId(sql, name);
  if (existing !== undefined) return existing;
  const inserted = await sql.query<{ id: BigintValue }>(
    'INSERT INTO repositories (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id',
    [name],
  );
  const row = inserted.rows[0];
  if (row) return String(row.id);
  const created = await findRepositoryId(sql, name);
  if (created === undefined) throw new Error(`repository '${name}' could not be created`);
  return created;
}
