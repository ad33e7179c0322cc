import { Client } from 'pg';

/**
 * Creates the database named in a connection string when it does not exist yet (so that a fresh server
 * works out of the box), connecting to the server's `postgres` database to do it. Safe when several
 * processes start at once: a concurrent creation is not an error.
 */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const probe = new Client({ connectionString });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
}
