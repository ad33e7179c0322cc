import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { inSavepoint, type SqlClient, type SqlResult } from '@ocireg/metadata';

export interface PgliteSqlOptions {
  /** Directory of the database files; undefined keeps the database in memory. */
  dataDir?: string;
}

function toResult<Row>(result: Results<Row>): SqlResult<Row> {
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

/** Runs queued tasks one at a time, in call order. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * The metadata SqlClient over embedded PGlite (one connection, one query at a time). Queries and whole
 * transactions are queued: a transaction holds the database from BEGIN to COMMIT, and concurrent callers wait
 * for it rather than interleaving with it. Inside a transaction use only the `tx` given to the callback;
 * querying the outer client there would wait for the transaction itself and never return.
 */
export class PgliteSqlClient implements SqlClient {
  private readonly queue = new SerialQueue();

  private constructor(private readonly db: PGlite) {}

  /** Opens (creating when new: several seconds on first open) the database. */
  static async open(options: PgliteSqlOptions = {}): Promise<PgliteSqlClient> {
    const db = await PGlite.create(options.dataDir);
    return new PgliteSqlClient(db);
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
    return this.queue.run(async () => toResult(await this.db.query<Row>(sql, [...params])));
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.queue.run(() => this.db.transaction((tx) => fn(new PgliteTransaction(tx))));
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      if (!this.db.closed) await this.db.close();
    });
  }
}

/** The SqlClient handed to a transaction's callback. */
class PgliteTransaction implements SqlClient {
  private savepoints = 0;

  constructor(private readonly tx: Transaction) {}

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
    if (this.tx.closed) throw new Error('the transaction has ended');
    return toResult(await this.tx.query<Row>(sql, [...params]));
  }

  /** A nested transaction is a savepoint: its failure rolls back only its own work. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return inSavepoint(this, `ocireg_savepoint_${++this.savepoints}`, fn);
  }

  async close(): Promise<void> {
    throw new Error('a transaction cannot close its client');
  }
}
