import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startApp } from '@ocireg/testing';

describe('`ocireg migrate` (the migration job)', () => {
  const name = `ocireg_e2e_migrate_${randomBytes(4).toString('hex')}`;
  const host = process.env['PGHOST'] ?? '127.0.0.1';
  const admin = () => new Client({ host, user: 'postgres', database: 'postgres' });

  afterAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  });

  it('creates the database when missing, applies the migrations and exits 0; a second run changes nothing', async () => {
    const run = async () => {
      const proc = startApp('migrate', { REGISTRY_DATABASE_URL: `postgres://postgres@${host}:5432/${name}` });
      const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
      return { code, output: proc.output() };
    };
    const first = await run();
    expect(first.code).toBe(0);
    const client = new Client({ host, user: 'postgres', database: name });
    await client.connect();
    const { rows } = await client.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.length).toBeGreaterThan(0);
    const second = await run();
    expect(second.code).toBe(0);
    const again = await client.query('SELECT version FROM schema_migrations');
    expect(again.rows).toHaveLength(rows.length);
    await client.end();
  }, 60_000);

  it('names a bad setting and exits non-zero', async () => {
    const proc = startApp('migrate', { REGISTRY_DATABASE_URL: 'mysql://nope' });
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
    expect(code).toBe(2);
    expect(proc.output()).toContain('REGISTRY_DATABASE_URL');
  }, 30_000);
});
