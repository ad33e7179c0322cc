import { migrations as defaultMigrations, type Migration } from './migrations';
import type { SqlClient } from './ports';

/** Arbitrary constant key of the transaction-scoped advisory lock that serialises concurrent runners. */
const MIGRATION_LOCK_KEY = 4_271_906_331;

interface AppliedRow {
  version: number;
  name: string;
}

/**
 * Applies the pending migrations in order, in one transaction that first takes an advisory lock: when several
 * processes start at once, one applies and the others wait, then find nothing left to do. Versions already
 * applied but unknown to this code (a newer release ran) are left alone; an applied version whose name
 * differs from the code's is an edited history and fails.
 */
export async function migrate(sql: SqlClient, migrations: readonly Migration[] = defaultMigrations): Promise<void> {
  assertOrdered(migrations);
  await sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const applied = await tx.query<AppliedRow>('SELECT version, name FROM schema_migrations');
    const appliedNames = new Map(applied.rows.map((row) => [Number(row.version), row.name]));
    for (const migration of migrations) {
      const appliedName = appliedNames.get(migration.version);
      if (appliedName !== undefined) {
        if (appliedName !== migration.name) {
          throw new Error(
            `migration ${migration.version} was applied as '${appliedName}' but is now named '${migration.name}'`,
          );
        }
        continue;
      }
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
  });
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    const previous = migrations[index - 1];
    if (!Number.isInteger(migration.version) || migration.version < 1) {
      throw new Error(`migration '${migration.name}' has an invalid version ${migration.version}`);
    }
    if (previous && previous.version >= migration.version) {
      throw new Error(`migrations are not in increasing version order at ${migration.version}`);
    }
  });
}
