import type { SqlClient } from './ports';

/** A nested transaction as a savepoint: its failure rolls back only its own work. For the adapters. */
export async function inSavepoint<T>(tx: SqlClient, name: string, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const result = await fn(tx);
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}
