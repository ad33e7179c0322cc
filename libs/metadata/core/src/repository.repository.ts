import type { Page, RepositoryMetadata, SqlClient } from './ports';

/** The repository aggregate: the catalog of repository names. */
export class RepositoryRepository implements RepositoryMetadata {
  constructor(private readonly sql: SqlClient) {}

  async listRepositories(page: Page): Promise<string[]> {
    const after = page.last === undefined ? '' : 'WHERE name > $2';
    const params: unknown[] = [page.n ?? null];
    if (page.last !== undefined) params.push(page.last);
    const result = await this.sql.query<{ name: string }>(
      `SELECT name FROM repositories ${after} ORDER BY name LIMIT $1`,
      params,
    );
    return result.rows.map((row) => row.name);
  }
}
