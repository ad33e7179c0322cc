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
