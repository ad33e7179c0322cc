import { randomBytes } from 'node:crypto';
import { describeMetadataContract } from '@ocireg/metadata-testsuite';
import { PgSqlClient, type PgSqlOptions } from './pg-sql-client';

const server: PgSqlOptions = {
  host: process.env['PGHOST'] ?? '127.0.0.1',
  port: Number(process.env['PGPORT'] ?? 5432),
  user: process.env['PGUSER'] ?? 'postgres',
  password: process.env['PGPASSWORD'],
};
const database = `ocireg_test_${randomBytes(6).toString('hex')}`;

// One database for the suite run; each test gets a fresh schema in it (search_path set per connection).
let admin: PgSqlClient | undefined;
let testDatabase: PgSqlClient | undefined;
let schemas = 0;

beforeAll(async () => {
  admin = new PgSqlClient({ ...server, database: 'postgres', max: 1 });
  await admin.query(`CREATE DATABASE ${database}`);
  testDatabase = new PgSqlClient({ ...server, database, max: 2 });
}, 30_000);

afterAll(async () => {
  await testDatabase?.close();
  await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin?.close();
}, 30_000);

describeMetadataContract('PostgreSQL', async () => {
  const owner = testDatabase;
  if (!owner) throw new Error('the test database is not created');
  const schema = `contract_${++schemas}`;
  await owner.query(`CREATE SCHEMA ${schema}`);
  const options: PgSqlOptions = { ...server, database, schema, max: 4 };
  const sql = new PgSqlClient(options);
  return {
    sql,
    openClient: async () => new PgSqlClient(options),
    teardown: async () => {
      await sql.close();
      await owner.query(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
});

describe('PgSqlClient', () => {
  it('accepts a connection string and rejects an invalid schema name', async () => {
    const { host, port, user } = server;
    const sql = new PgSqlClient({ connectionString: `postgres://${user}@${host}:${port}/${database}`, max: 1 });
    try {
      expect((await sql.query<{ db: string }>('SELECT current_database() AS db')).rows).toEqual([{ db: database }]);
    } finally {
      await sql.close();
    }
    expect(() => new PgSqlClient({ ...server, schema: 'bad; name' })).toThrow(/schema/);
  });

  /** A client on one connection (so that what it prepared is visible to it) in a schema of its own. */
  async function oneConnection(extra: Partial<PgSqlOptions> = {}): Promise<{ sql: PgSqlClient; done: () => Promise<void> }> {
    const owner = testDatabase;
    if (!owner) throw new Error('the test database is not created');
    const schema = `prepared_${++schemas}`;
    await owner.query(`CREATE SCHEMA ${schema}`);
    const sql = new PgSqlClient({ ...server, database, schema, max: 1, ...extra });
    await sql.query('CREATE TABLE t (a int)');
    await sql.query('INSERT INTO t VALUES (1), (2)');
    return {
      sql,
      done: async () => {
        await sql.close();
        await owner.query(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  }

  const prepared = async (sql: PgSqlClient) =>
    (await sql.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time')).rows.map((r) => r.statement);

  it('prepares a statement with parameters once per connection, in and out of transactions; one without parameters never', async () => {
    const { sql, done } = await oneConnection();
    try {
      const lookup = 'SELECT a FROM t WHERE a = $1';
      for (const a of [1, 2, 1]) expect((await sql.query<{ a: number }>(lookup, [a])).rows).toEqual([{ a }]);
      await sql.transaction(async (tx) => expect((await tx.query<{ a: number }>(lookup, [2])).rows).toEqual([{ a: 2 }]));
      await sql.query('SELECT count(*) FROM t');
      expect(await prepared(sql)).toEqual([lookup]);
    } finally {
      await done();
    }
  });

  it('prepares nothing when told not to (a pooler in transaction mode)', async () => {
    const { sql, done } = await oneConnection({ preparedStatements: false });
    try {
      expect((await sql.query<{ a: number }>('SELECT a FROM t WHERE a = $1', [1])).rows).toEqual([{ a: 1 }]);
      expect(await prepared(sql)).toEqual([]);
    } finally {
      await done();
    }
  });

  it('prepares a statement again when a migration changed what it returns (Postgres refuses the old plan)', async () => {
    const { sql, done } = await oneConnection();
    try {
      const all = 'SELECT * FROM t WHERE a = $1';
      expect((await sql.query(all, [1])).rows).toEqual([{ a: 1 }]);
      await sql.query('ALTER TABLE t ADD COLUMN b text');
      expect((await sql.query(all, [1])).rows).toEqual([{ a: 1, b: null }]);
      expect((await sql.query(all, [2])).rows).toEqual([{ a: 2, b: null }]);
      await sql.query('ALTER TABLE t ADD COLUMN c text');
      // In a transaction the refusal aborts it; the next transaction runs the statement prepared anew.
      await expect(sql.transaction((tx) => tx.query(all, [1]))).rejects.toThrow(/cached plan/);
      expect(await sql.transaction(async (tx) => (await tx.query(all, [1])).rows)).toEqual([{ a: 1, b: null, c: null }]);
    } finally {
      await done();
    }
  });
});

describe('ensureDatabase', () => {
  const host = process.env['PGHOST'] ?? '127.0.0.1';
  const port = process.env['PGPORT'] ?? '5432';
  const user = process.env['PGUSER'] ?? 'postgres';

  it('creates a missing database once, even when asked concurrently', async () => {
    const { ensureDatabase } = await import('./ensure-database');
    const { Client } = await import('pg');
    const name = `ocireg_ensure_${Date.now().toString(36)}`;
    const url = `postgres://${user}@${host}:${port}/${name}`;
    await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    const client = new Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    await client.end();
    expect(rows[0]?.db).toBe(name);
    const admin = new Client({ host, port: Number(port), user, database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE "${name}"`);
    await admin.end();
  });
});
