import { createMetadata, migrate, migrations, type Migration, type SqlClient } from '@ocireg/metadata';
import type { ContractContext } from './context';
import { blobRecord } from './fixtures';

const TABLES = [
  'repositories',
  'blobs',
  'repository_blobs',
  'manifests',
  'repository_manifests',
  'manifest_references',
  'tags',
];

async function appliedMigrations(sql: SqlClient): Promise<{ version: number; name: string; applied_at: string }[]> {
  const result = await sql.query<{ version: number; name: string; applied_at: unknown }>(
    'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
  );
  return result.rows.map((row) => ({ version: row.version, name: row.name, applied_at: String(row.applied_at) }));
}

async function tableExists(sql: SqlClient, table: string): Promise<boolean> {
  const result = await sql.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [table]);
  return result.rows[0]?.found === true;
}

export function defineMigrationTests(ctx: ContractContext): void {
  describe('migrate', () => {
    it('applies every migration once, in version order, and creates the documented tables', async () => {
      await migrate(ctx.sql);
      const applied = await appliedMigrations(ctx.sql);
      expect(applied.map(({ version, name }) => ({ version, name }))).toEqual(
        migrations.map(({ version, name }) => ({ version, name })),
      );
      for (const table of TABLES) expect(await tableExists(ctx.sql, table)).toBe(true);
    });

    it('is a no-op the second time and keeps the data', async () => {
      await migrate(ctx.sql);
      const before = await appliedMigrations(ctx.sql);
      await createMetadata(ctx.sql).blobs.commitBlob('library/a', blobRecord('kept'));
      await migrate(ctx.sql);
      expect(await appliedMigrations(ctx.sql)).toEqual(before);
      expect(await createMetadata(ctx.sql).blobs.findBlob(blobRecord('kept').digest)).toEqual(blobRecord('kept'));
    });

    it('is safe when several runners start at once', async () => {
      const clients = await Promise.all([ctx.openClient(), ctx.openClient()]);
      try {
        await Promise.all([migrate(ctx.sql), ...clients.map((client) => migrate(client.sql))]);
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
      expect((await appliedMigrations(ctx.sql)).map((row) => row.version)).toEqual(
        migrations.map((migration) => migration.version),
      );
    });

    it('applies only the pending migrations', async () => {
      await migrate(ctx.sql);
      const extra: Migration = { version: 100_000, name: 'extra', statements: ['CREATE TABLE contract_extra (id int)'] };
      await migrate(ctx.sql, [...migrations, extra]);
      expect(await tableExists(ctx.sql, 'contract_extra')).toBe(true);
      expect((await appliedMigrations(ctx.sql)).map((row) => row.name)).toEqual([
        ...migrations.map((migration) => migration.name),
        'extra',
      ]);
    });

    it('rolls everything back when a migration fails', async () => {
      const failing: Migration = {
        version: 100_000,
        name: 'failing',
        statements: ['CREATE TABLE contract_failing (id int)', 'SELECT contract_no_such_function()'],
      };
      await expect(migrate(ctx.sql, [...migrations, failing])).rejects.toThrow();
      expect(await tableExists(ctx.sql, 'repositories')).toBe(false);
      expect(await tableExists(ctx.sql, 'contract_failing')).toBe(false);
      await migrate(ctx.sql);
      expect(await tableExists(ctx.sql, 'repositories')).toBe(true);
    });

    it('rejects an edited history and out-of-order versions', async () => {
      await migrate(ctx.sql);
      const renamed = migrations.map((migration) => ({ ...migration, name: `${migration.name}-renamed` }));
      await expect(migrate(ctx.sql, renamed)).rejects.toThrow(/renamed/);
      await expect(migrate(ctx.sql, [...migrations].reverse().concat(migrations))).rejects.toThrow(/order/);
    });
  });
}
