import type { SqlClient, SqlResult } from '@ocireg/metadata';
import { type DatabaseMetrics, SpanKind, type Tracer, inSpan, secondsSince } from '@ocireg/observability';

const STATEMENTS = new Set(['select', 'insert', 'update', 'delete', 'with', 'begin', 'commit', 'rollback', 'savepoint', 'release', 'create', 'alter', 'drop']);

/**
 * A call of one of the metadata's own functions (migration 2): labelled by the Metadata method it serves
 * (`ocireg_commit_blob` -> `commitBlob`), as the embedded journal store labels its calls, not as a select.
 */
const OWN_FUNCTION_CALL = /^\s*select\b[^;]*?\bocireg_([a-z_]+)\s*\(/i;

/**
 * A bounded label for a statement: the method of our own function it calls (`commitBlob`, `putManifest`),
 * else its first keyword (select, insert, ...), or `other`.
 */
export function statementKind(sql: string): string {
  const call = OWN_FUNCTION_CALL.exec(sql)?.[1];
  if (call) return call.toLowerCase().replace(/_([a-z])/g, (_m, letter: string) => letter.toUpperCase());
  const keyword = /^\s*([a-zA-Z]+)/.exec(sql)?.[1]?.toLowerCase() ?? '';
  return STATEMENTS.has(keyword) ? keyword : 'other';
}

/**
 * A SqlClient decorator that times every query by statement kind and counts failures; a transaction is timed
 * as a whole (`transaction`) and the queries inside it one by one. With a tracer, each query and transaction
 * is a client span (`db <kind>`, the parameterised statement as `db.query.text`: never the parameters).
 */
export class InstrumentedSqlClient implements SqlClient {
  constructor(
    private readonly inner: SqlClient,
    private readonly metrics: DatabaseMetrics,
    private readonly tracer?: Tracer,
    /** `postgresql` (pg) or `pglite`: the spans' `db.system.name`. */
    private readonly system = 'postgresql',
  ) {}

  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>> {
    return this.timed(statementKind(sql), () => this.inner.query<Row>(sql, params), sql);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.timed('transaction', () => this.inner.transaction((tx) => fn(new InstrumentedSqlClient(tx, this.metrics, this.tracer, this.system))));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private timed<T>(operation: string, run: () => Promise<T>, sql?: string): Promise<T> {
    return timedDatabaseCall({ metrics: this.metrics, tracer: this.tracer, system: this.system }, operation, run, sql);
  }
}

export interface DatabaseInstruments {
  metrics: DatabaseMetrics;
  tracer?: Tracer | undefined;
  /** The spans' `db.system.name`. */
  system: string;
}

/**
 * One database call timed in the database metrics by `operation` (failures counted) and, with a tracer, a
 * client span `db <operation>` (with the parameterised statement as `db.query.text` when there is one).
 */
export function timedDatabaseCall<T>({ metrics, tracer, system }: DatabaseInstruments, operation: string, run: () => Promise<T>, sql?: string): Promise<T> {
  const measured = async () => {
    const start = process.hrtime.bigint();
    try {
      return await run();
    } catch (error) {
      metrics.errors.inc({ operation });
      throw error;
    } finally {
      metrics.duration.observe({ operation }, secondsSince(start));
    }
  };
  if (!tracer) return measured();
  const attributes = { 'db.system.name': system, 'db.operation.name': operation, ...(sql ? { 'db.query.text': sql } : {}) };
  return inSpan(tracer, `db ${operation}`, SpanKind.CLIENT, attributes, measured);
}
