import { spawnSync } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metadata, NewManifest } from '@ocireg/metadata';
import { describeMetadataStoreContract } from '@ocireg/metadata-testsuite';
import { JournalMetadata } from './journal-metadata';
import { frame, journalFile, LOCK_FILE, snapshotFile } from './layout';
import { loadJournal, snapshotBody } from './open-journal';
import type { JournalRecord } from './records';

const directories: string[] = [];

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'ocireg-journal-'));
  directories.push(directory);
  return directory;
}

afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

describeMetadataStoreContract(
  'journal',
  async () => {
    const directory = await freshDirectory();
    let store = await JournalMetadata.open({ directory });
    return {
      metadata: store,
      reopen: async () => {
        await store.close();
        store = await JournalMetadata.open({ directory });
        return store;
      },
      teardown: async () => {
        await store.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  },
  { durable: true },
);

function manifest(label: string): NewManifest {
  const hex = Buffer.from(label).toString('hex').padEnd(64, '0').slice(0, 64);
  return { digest: `sha256:${hex}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100, storageKey: `manifests/${label}`, blobs: [], manifests: [] };
}

async function tags(metadata: Metadata, repository = 'library/a'): Promise<string[] | undefined> {
  return metadata.manifests.listTags(repository, {});
}

describe('JournalMetadata', () => {
  let directory = '';
  let open: JournalMetadata[] = [];

  async function openStore(options: { compactionBytes?: number } = {}): Promise<JournalMetadata> {
    const store = await JournalMetadata.open({ directory, ...options });
    open.push(store);
    return store;
  }

  async function closeStore(store: JournalMetadata): Promise<void> {
    open = open.filter((s) => s !== store);
    await store.close();
  }

  beforeEach(async () => {
    directory = await freshDirectory();
    open = [];
  });

  afterEach(async () => {
    for (const store of open) await store.close().catch(() => undefined);
  });

  it('creates its directory, parents included, when missing', async () => {
    const nested = join(directory, 'a', 'b');
    const store = await JournalMetadata.open({ directory: nested });
    await store.manifests.putManifest('library/a', manifest('one'), 'one');
    await store.close();
    expect((await readdir(nested)).sort()).toEqual(['journal-0.log']);
  });

  it('ignores a torn last record, truncating it, and keeps working', async () => {
    const first = await openStore();
    await first.manifests.putManifest('library/a', manifest('one'), 'one');
    await first.manifests.putManifest('library/a', manifest('two'), 'two');
    await closeStore(first);
    const path = journalFile(directory, 0);
    const size = (await stat(path)).size;
    await truncate(path, size - 5);

    const second = await openStore();
    expect(second.droppedBytes).toBeGreaterThan(0);
    expect(await tags(second)).toEqual(['one']);
    await second.manifests.putManifest('library/a', manifest('three'), 'three');
    await closeStore(second);

    const third = await openStore();
    expect(third.droppedBytes).toBe(0);
    expect(await tags(third)).toEqual(['one', 'three']);
  });

  it('drops a tail record whose checksum does not match', async () => {
    const first = await openStore();
    await first.manifests.putManifest('library/a', manifest('one'), 'one');
    await first.manifests.putManifest('library/a', manifest('two'), 'two');
    await closeStore(first);
    const path = journalFile(directory, 0);
    const text = await readFile(path, 'utf8');
    // Same length, one byte changed inside the last record's JSON: only the checksum can tell.
    const corrupt = text.slice(0, text.lastIndexOf('"two"')) + '"twx"' + text.slice(text.lastIndexOf('"two"') + 5);
    expect(corrupt.length).toBe(text.length);
    await writeFile(path, corrupt);

    const second = await openStore();
    expect(second.droppedBytes).toBe(Buffer.byteLength(text) - Buffer.byteLength(text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1)));
    expect(await tags(second)).toEqual(['one']);
    await closeStore(second);
    expect(await readFile(path, 'utf8')).toBe(text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
  });

  it('compacts into a snapshot past the threshold and keeps the state across a reopen', async () => {
    const first = await openStore({ compactionBytes: 1024 });
    for (let i = 0; i < 40; i++) await first.manifests.putManifest('library/a', manifest(`m${i}`), `t${i}`);
    await first.manifests.deleteTag('library/a', 't0');
    await closeStore(first);
    const generation = first.stats.generation;
    expect(generation).toBeGreaterThan(1);
    expect(first.stats.compactions).toBeGreaterThan(0);
    expect((await readdir(directory)).sort()).toEqual([`journal-${generation}.log`, `snapshot-${generation}.json`]);
    expect((await stat(journalFile(directory, generation))).size).toBeLessThan(2048);

    const second = await openStore();
    expect(await tags(second)).toHaveLength(39);
    expect(await tags(second)).not.toContain('t0');
    expect(await second.manifests.resolveTag('library/a', 't39')).toMatchObject({ digest: manifest('m39').digest });
  });

  it('loses nothing written by concurrent writers while compactions rotate the journal', async () => {
    const first = await openStore({ compactionBytes: 2048 });
    for (let round = 0; round < 4; round++) {
      const writes = Array.from({ length: 50 }, (_, i) => first.manifests.putManifest('library/a', manifest(`r${round}-${i}`), `r${round}-${i}`));
      await Promise.all(writes);
      await Promise.all(Array.from({ length: 10 }, (_, i) => first.manifests.deleteTag('library/a', `r${round}-${i}`)));
    }
    expect(first.stats.generation).toBeGreaterThan(1);
    await closeStore(first);
    expect(first.stats.compactions).toBeGreaterThan(0);
    const second = await openStore();
    const listed = await tags(second);
    expect(listed).toHaveLength(160);
    expect(listed).not.toContain('r3-9');
    expect(listed).toContain('r3-10');
  });

  /** A directory whose journal-0 holds tags one and two, and the snapshot of that state as generation 1. */
  async function compactionLeftovers(): Promise<{ snapshot: string; journal1: string }> {
    const first = await openStore();
    await first.manifests.putManifest('library/a', manifest('one'), 'one');
    await first.manifests.putManifest('library/a', manifest('two'), 'two');
    await closeStore(first);
    const loaded = await loadJournal(directory);
    await loaded.handle.close();
    const record: JournalRecord = { op: 'putManifest', repository: 'library/a', manifest: manifest('three'), tag: 'three' };
    const deleted: JournalRecord = { op: 'deleteTag', repository: 'library/a', tag: 'one' };
    return { snapshot: frame(snapshotBody(loaded.state, 1)), journal1: frame(JSON.stringify(record)) + frame(JSON.stringify(deleted)) };
  }

  it('opens after a crash while a compaction wrote its snapshot: previous journal, new journal, partial snapshot', async () => {
    const { journal1 } = await compactionLeftovers();
    await writeFile(journalFile(directory, 1), journal1);
    await writeFile(`${snapshotFile(directory, 1)}.tmp`, 'partial');

    const second = await openStore();
    expect(await tags(second)).toEqual(['three', 'two']);
    expect((await readdir(directory)).sort()).toEqual([LOCK_FILE, 'journal-0.log', 'journal-1.log']);
    await second.manifests.deleteTag('library/a', 'two');
    await closeStore(second);
    const third = await openStore();
    expect(await tags(third)).toEqual(['three']);
  });

  it('opens after a crash between a snapshot and the removal of the previous generation', async () => {
    const { snapshot, journal1 } = await compactionLeftovers();
    await writeFile(journalFile(directory, 1), journal1);
    await writeFile(snapshotFile(directory, 1), snapshot);

    const second = await openStore();
    expect(await tags(second)).toEqual(['three', 'two']);
    expect((await readdir(directory)).sort()).toEqual([LOCK_FILE, 'journal-1.log', 'snapshot-1.json']);
  });

  it('opens a snapshot whose journal was never created', async () => {
    const { snapshot } = await compactionLeftovers();
    await writeFile(snapshotFile(directory, 1), snapshot);

    const second = await openStore();
    expect(await tags(second)).toEqual(['one', 'two']);
    expect((await readdir(directory)).sort()).toEqual([LOCK_FILE, 'journal-1.log', 'snapshot-1.json']);
    await second.manifests.deleteTag('library/a', 'one');
    await closeStore(second);
    const third = await openStore();
    expect(await tags(third)).toEqual(['two']);
  });

  it('refuses a gap in the journals, or a corrupt journal that is not the last, rather than lose records', async () => {
    await writeFile(journalFile(directory, 3), '');
    await expect(openStore()).rejects.toThrow(/journal-0.log is missing/);
    await rm(journalFile(directory, 3));
    const { journal1 } = await compactionLeftovers();
    await writeFile(journalFile(directory, 1), journal1);
    await truncate(journalFile(directory, 0), (await stat(journalFile(directory, 0))).size - 3);
    await expect(openStore()).rejects.toThrow(/is not the last journal/);
  });

  it('lets one holder at a time open a directory', async () => {
    const first = await openStore();
    await expect(JournalMetadata.open({ directory })).rejects.toThrow(/already open/);
    await closeStore(first);
    await writeFile(join(directory, LOCK_FILE), `${process.ppid}\n`);
    await expect(JournalMetadata.open({ directory })).rejects.toThrow(`locked by process ${process.ppid}`);
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(join(directory, LOCK_FILE), `${exited.stdout}\n`);
    const second = await openStore();
    expect(await readFile(join(directory, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await closeStore(second);
    expect(await readdir(directory)).not.toContain(LOCK_FILE);
  });

  it('groups concurrent writers into fewer syncs, and every write survives a reopen', async () => {
    const first = await openStore();
    const writes = Array.from({ length: 50 }, (_, i) => first.manifests.putManifest('library/a', manifest(`c${i}`), `c${i}`));
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 50 }, () => ({ missing: [] })));
    expect(first.stats.records).toBe(50);
    expect(first.stats.syncs).toBeGreaterThan(0);
    expect(first.stats.syncs).toBeLessThan(first.stats.records);
    await closeStore(first);
    const second = await openStore();
    expect(await tags(second)).toHaveLength(50);
  });

  it('waits for the sync of the records a no-op call saw, and writes nothing for it', async () => {
    const store = await openStore();
    const write = store.manifests.putManifest('library/a', manifest('one'), 'one');
    let writeDone = false;
    void write.then(() => (writeDone = true));
    await store.manifests.putManifest('library/a', manifest('one'), 'one');
    expect(writeDone).toBe(true);
    expect(store.stats.records).toBe(1);
  });

  it('flushes pending records on close', async () => {
    const first = await openStore();
    const pending = first.manifests.putManifest('library/a', manifest('one'), 'one');
    await closeStore(first);
    await expect(pending).resolves.toEqual({ missing: [] });
    await expect(first.manifests.findManifest('library/a', manifest('one').digest)).rejects.toThrow(/closed/);
    const second = await openStore();
    expect(await tags(second)).toEqual(['one']);
  });

  it('fails the call and every later one when a write or sync fails', async () => {
    const store = await openStore();
    await store.manifests.putManifest('library/a', manifest('one'), 'one');
    // Close the journal's file behind the store's back: the next write fails with EBADF.
    const log: unknown = Reflect.get(store, 'log');
    await (Reflect.get(log as object, 'handle') as FileHandle).close();
    await expect(store.manifests.putManifest('library/a', manifest('two'), 'two')).rejects.toThrow(/restart/);
    expect(() => store.check()).toThrow(/restart/);
    await expect(store.manifests.resolveTag('library/a', 'one')).rejects.toThrow(/restart/);
    await expect(store.blobs.commitBlob('library/a', { digest: manifest('b').digest, size: 1, storageKey: 'b' })).rejects.toThrow(/restart/);
  });
});
