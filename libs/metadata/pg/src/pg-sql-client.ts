import { Pool, type PoolClient, type PoolConfig, type QueryResult, type QueryResultRow } from 'pg';
import { inSavepoint, type SqlClient, type SqlResult } from '@ocireg/metadata';

export interface PgSqlOptions {
  /** postgres://user:password@host:port/database; the separate fields below override its parts. */
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** Maximum number of pooled connections (default 10). */
  max?: number;
  /** Sets search_path on every connection, so all tables (schema_migrations too) live in this schema. */
  schema?: string;
  idleTimeoutMillis?: number;
  connectionTimeoutMillis?: number;
  /** Errors of idle pooled connections (the pool drops them); ignored by default. */
  onError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function toResult<Row>(result: QueryResult<QueryResultRow>): SqlResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
}

/** The metadata SqlClient over a node-postgres pool; transactions run on one dedicated pooled connection. */
export class PgSqlClient implements SqlClient {
  private readonly pool: Pool;

  constructor(options: PgSqlOptions = {}) {
    const { schema, onError, ...connection } = options;
    const config: PoolConfig = { ...connection, application_name: 'ocireg' };
    if (schema !== undefined) {
      if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name '${schema}'`);
      config.options = `-c search_path=${schema}`;
    }
    this.pool = new Pool(config);
    this.pool.on('error', onError ?? (() => undefined));
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
    return toResult<Row>(await this.pool.query(sql, [...params]));
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new PgTransaction(client);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      const commit = await client.query('COMMIT');
      // COMMIT of a transaction aborted by a failed statement (that the callback caught) rolls back silently.
      if (commit.command === 'ROLLBACK') throw new Error('the transaction was aborted and has been rolled back');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      tx.end();
      // A connection whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
      client.release(broken);
    }
  }

  /** The pool's connections right now (for gauges): all, idle, and requests waiting for one. */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The SqlClient handed to a transaction's callback: its queries run on the transaction's connection. */
class PgTransaction implements SqlClient {
  private ended = false;
  private savepoints = 0;

  constructor(private readonly client: PoolClient) {}

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
    if (this.ended) throw new Error('the transaction has ended');
    return toResult<Row>(await this.client.query(sql, [...params]));
  }

  /** A nested transaction is a savepoint: its failure rolls back only its own work. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return inSavepoint(this, `ocireg_savepoint_${++this.savepoints}`, fn);
  }

  async close(): Promise<void> {
    throw new Error('a transaction cannot close its client');
  }

  end(): void {
    this.ended = true;
  }
}
