import type { SqlClient } from '@ocireg/metadata';
import { RegistryMetrics } from '@ocireg/observability';
import { InstrumentedSqlClient, statementKind } from './instrumented-sql';

function fakeSql(): SqlClient {
  const sql: SqlClient = {
    query: (async (text: string) => {
      if (text.startsWith('BAD')) throw new Error('syntax error');
      return { rows: [{ one: 1 }], rowCount: 1 };
    }) as SqlClient['query'],
    transaction: async (fn) => fn(sql),
    close: async () => undefined,
  };
  return sql;
}

describe('InstrumentedSqlClient', () => {
  it('labels statements by their first keyword only', () => {
    expect(statementKind('  SELECT 1')).toBe('select');
    expect(statementKind('insert into x values ($1)')).toBe('insert');
    expect(statementKind('SELECT * FROM ocireg_commit_blob($1, $2, $3, $4)')).toBe('commitBlob');
    expect(statementKind('SELECT ocireg_put_manifest($1, $2) AS missing')).toBe('putManifest');
    expect(statementKind('VACUUM')).toBe('other');
  });

  it('times queries by statement kind, transactions as a whole and the queries inside them, and counts failures', async () => {
    const metrics = new RegistryMetrics(false);
    const sql = new InstrumentedSqlClient(fakeSql(), metrics.database());
    expect((await sql.query('SELECT 1')).rows).toEqual([{ one: 1 }]);
    await sql.transaction(async (tx) => {
      await tx.query('UPDATE t SET a = 1');
      await tx.query('SELECT 2');
    });
    await expect(sql.query('BAD SQL')).rejects.toThrow('syntax error');
    const text = await metrics.text();
    expect(text).toContain('ocireg_db_query_duration_seconds_count{operation="select"} 2');
    expect(text).toContain('ocireg_db_query_duration_seconds_count{operation="update"} 1');
    expect(text).toContain('ocireg_db_query_duration_seconds_count{operation="transaction"} 1');
    expect(text).toContain('ocireg_db_errors_total{operation="other"} 1');
  });
});
