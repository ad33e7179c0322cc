import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetadata, migrate } from '@ocireg/metadata';
import { describeMetadataContract } from '@ocireg/metadata-testsuite';
import { PgliteSqlClient } from './pglite-sql-client';

const OPEN_TIMEOUT_MS = 60_000;

// One in-memory database for the suite (opening one takes seconds); each test gets a fresh schema in it.
let shared: PgliteSqlClient | undefined;
let schemas = 0;

beforeAll(async () => {
  shared = await PgliteSqlClient.open();
}, OPEN_TIMEOUT_MS);

afterAll(async () => {
  await shared?.close();
});

describeMetadataContract('PGlite (in memory)', async () => {
  const sql = shared;
  if (!sql) throw new Error('the shared PGlite database is not open');
  const schema = `contract_${++schemas}`;
  await sql.query(`CREATE SCHEMA ${schema}`);
  await sql.query(`SET search_path TO ${schema}`);
  return {
    sql,
    teardown: async () => {
      await sql.query('SET search_path TO public');
      await sql.query(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
});

describe('PgliteSqlClient with a data directory', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ocireg-pglite-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'keeps the data when the database is closed and opened again',
    async () => {
      const first = await PgliteSqlClient.open({ dataDir });
      await migrate(first);
      const blob = { digest: `sha256:${'a'.repeat(64)}`, size: 3, storageKey: 'blobs/a' };
      await createMetadata(first).blobs.commitBlob('library/a', blob);
      await first.close();

      const second = await PgliteSqlClient.open({ dataDir });
      try {
        await migrate(second);
        expect(await createMetadata(second).blobs.findLinkedBlob('library/a', blob.digest)).toEqual(blob);
      } finally {
        await second.close();
      }
    },
    2 * OPEN_TIMEOUT_MS,
  );

  it(
    'waits for queued work before closing',
    async () => {
      const sql = await PgliteSqlClient.open({ dataDir });
      const pending = sql.query<{ one: number }>('SELECT 1 AS one');
      await sql.close();
      expect((await pending).rows).toEqual([{ one: 1 }]);
      await expect(sql.query('SELECT 1')).rejects.toThrow();
    },
    OPEN_TIMEOUT_MS,
  );
});
