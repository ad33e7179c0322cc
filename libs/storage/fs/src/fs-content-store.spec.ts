import fs, { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ContentNotFoundError } from '@ocireg/storage';
import { describeContentStoreContract } from '@ocireg/storage-testsuite';
import { AlignedSlots, DirectIo, writeStreamDirect } from './direct-io';
import { INLINE_CALLS } from './fs-calls';
import { FilesystemContentStore } from './fs-content-store';
import { APPENDING_DIR, TEMP_DIR, appendingName, uniqueName, writeStreamAt } from './fs-files';

const variants = [
  ['filesystem', true, true],
  ['filesystem, buffered writes only', false, true],
  ['filesystem, calls through the thread pool', true, false],
] as const;
for (const [name, directIo, inlineCalls] of variants) {
  describeContentStoreContract(name, async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-store-'));
    const rootDirectory = path.join(directory, 'store');
    return {
      store: new FilesystemContentStore({ rootDirectory, directIo, inlineCalls }),
      teardown: () => rm(directory, { recursive: true, force: true }),
      // Every file under the root, the temporary and appending areas included.
      sweepAll: async () => {
        const entries = await readdir(rootDirectory, { recursive: true, withFileTypes: true });
        const files = entries.filter((entry) => !entry.isDirectory()).map((entry) => path.join(entry.parentPath, entry.name));
        for (const file of files) await rm(file, { force: true });
        return files.map((file) => path.relative(rootDirectory, file));
      },
    };
  });
}

describe('FilesystemContentStore.purgeUnfinished (ages set with utimes)', () => {
  let directory: string;
  let root: string;
  let store: FilesystemContentStore;
  const anHourAgo = (): Date => new Date(Date.now() - 3_600_000);
  const aMinuteAgo = (): Date => new Date(Date.now() - 60_000);

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-purge-'));
    root = path.join(directory, 'store');
    store = new FilesystemContentStore({ rootDirectory: root });
    await store.init();
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
  }

  it('removes the temporary and appending files idle since before the cutoff, and nothing else', async () => {
    const [staleTemp, freshTemp] = [path.join(root, TEMP_DIR, 'a'.repeat(32)), path.join(root, TEMP_DIR, 'b'.repeat(32))];
    await writeFile(staleTemp, 'an interrupted whole write');
    await utimes(staleTemp, anHourAgo(), anHourAgo());
    await writeFile(freshTemp, 'a whole write in progress');
    const [abandoned, active, complete] = ['v1/abandoned', 'v1/active', 'v1/complete'];
    await store.append(abandoned, await store.startAppend(abandoned), Readable.from([Buffer.from('old bytes')]));
    await utimes(path.join(root, APPENDING_DIR, appendingName(abandoned)), anHourAgo(), anHourAgo());
    const activeState = await store.append(active, await store.startAppend(active), Readable.from([Buffer.from('new bytes')]));
    await store.write(complete, Readable.from([Buffer.from('complete')]));
    await utimes(path.join(root, 'v1', 'complete'), anHourAgo(), anHourAgo());

    await expect(store.purgeUnfinished(aMinuteAgo())).resolves.toBe(2);
    expect(await filesUnder(root)).toEqual(
      [path.join(APPENDING_DIR, appendingName(active)), path.join(TEMP_DIR, 'b'.repeat(32)), path.join('v1', 'complete')].sort(),
    );
    await expect(store.completeAppend(active, activeState)).resolves.toEqual({ key: active, size: 9 });
    await expect(store.stat(complete)).resolves.toEqual({ key: complete, size: 8 });
  });

  it('finds nothing to purge when the hidden areas do not exist', async () => {
    await rm(path.join(root, TEMP_DIR), { recursive: true });
    await rm(path.join(root, APPENDING_DIR), { recursive: true });
    await expect(store.purgeUnfinished(new Date(Date.now() + 60_000))).resolves.toBe(0);
  });
});

/** The two writers of the store: through the page cache, and direct through aligned slots. */
const writers: Array<[string, (fd: number, file: string, body: Readable, sync: boolean) => Promise<number>]> = [
  ['writeStreamAt', (fd, _file, body, sync) => writeStreamAt(fd, body, 0, sync)],
  [
    'writeStreamDirect',
    (fd, file, body, sync) =>
      writeStreamDirect(INLINE_CALLS, fd, file, body, 0, sync, new DirectIo(true, new AlignedSlots(2)), () => Promise.reject(new Error('no slots'))),
  ],
];

describe.each(writers)('%s', (_name, write) => {
  it('settles after a failed body only once its writes in flight have ended (the caller closes the descriptor next)', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-inflight-'));
    // Every write is held until released: the one in flight when the body fails must be waited for.
    type Call = (...args: unknown[]) => void;
    const held: Array<() => void> = [];
    let holding = true;
    const hold = (real: Call) => (...args: unknown[]) => {
      const run = () => real(...args);
      if (holding) held.push(run);
      else run();
    };
    const [realWrite, realWritev] = [fs.write.bind(fs) as Call, fs.writev.bind(fs) as Call];
    const writeSpy = jest.spyOn(fs, 'write').mockImplementation(hold(realWrite) as unknown as typeof fs.write);
    const writevSpy = jest.spyOn(fs, 'writev').mockImplementation(hold(realWritev) as unknown as typeof fs.writev);
    const file = path.join(directory, 'f');
    const fd = openSync(file, 'w');
    try {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(1024 * 1024 + 4096, 3);
        throw new Error('the client went away');
      }
      let settled = false;
      const outcome = write(fd, file, Readable.from(failing()), false).then(
        () => 'resolved',
        () => 'rejected',
      );
      void outcome.finally(() => (settled = true));
      for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(held.length).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(settled).toBe(false);
      holding = false;
      for (const run of held.splice(0)) run();
      expect(await outcome).toBe('rejected');
    } finally {
      holding = false;
      for (const run of held.splice(0)) run();
      writeSpy.mockRestore();
      writevSpy.mockRestore();
      closeSync(fd);
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('syncs a long write in the background as it goes (every 32 MiB), and the whole file at the end when asked', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-write-'));
    try {
      const chunk = Buffer.alloc(1024 * 1024, 7);
      const writeOf = async (sync: boolean, mebibytes = 70) => {
        const file = path.join(directory, `f-${sync}-${mebibytes}`);
        const fd = openSync(file, 'w');
        const datasync = jest.spyOn(fs, 'fdatasync');
        try {
          const written = await write(fd, file, Readable.from(Array.from({ length: mebibytes }, () => chunk)), sync);
          return { written, syncs: datasync.mock.calls.filter(([synced]) => synced === fd).length };
        } finally {
          datasync.mockRestore();
          closeSync(fd);
        }
      };
      // 70 MiB: a background sync after 32 MiB (and after 64 unless the first is still running), plus the final
      // one when the caller wants the file durable.
      const unsynced = await writeOf(false);
      expect(unsynced.written).toBe(70 * 1024 * 1024);
      expect(unsynced.syncs).toBeGreaterThanOrEqual(1);
      expect(unsynced.syncs).toBeLessThanOrEqual(2);
      const synced = await writeOf(true);
      expect(synced.syncs).toBeGreaterThanOrEqual(2);
      expect((await readFile(path.join(directory, 'f-true-70'))).equals(Buffer.concat(Array.from({ length: 70 }, () => chunk)))).toBe(true);
      // Exactly 32 MiB: no background sync just before the final one (one disk flush, not two).
      const exact = await writeOf(true, 32);
      expect(exact.written).toBe(32 * 1024 * 1024);
      expect(exact.syncs).toBe(1);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('FilesystemContentStore.write of bytes in memory', () => {
  it('opens the file with O_DSYNC and needs no fdatasync; a stream is synced at its end instead', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-dsync-'));
    const store = new FilesystemContentStore({ rootDirectory: directory });
    await store.init();
    const open = jest.spyOn(fs, 'open');
    const openSync = jest.spyOn(fs, 'openSync');
    const datasync = jest.spyOn(fs, 'fdatasync');
    try {
      const bytes = Buffer.from('{"schemaVersion":2}');
      await store.write('manifests/a', bytes);
      const flags = [...open.mock.calls, ...openSync.mock.calls].map((call): unknown => call[1]).filter((flag): flag is number => typeof flag === 'number');
      expect(flags.some((flag) => (flag & fs.constants.O_DSYNC) !== 0 && (flag & fs.constants.O_EXCL) !== 0)).toBe(true);
      expect(datasync).not.toHaveBeenCalled();
      expect(await readFile(path.join(directory, 'manifests', 'a'))).toEqual(bytes);

      await store.write('manifests/b', Readable.from([bytes]));
      expect(datasync).toHaveBeenCalledTimes(1);
      expect(await readFile(path.join(directory, 'manifests', 'b'))).toEqual(bytes);
    } finally {
      open.mockRestore();
      openSync.mockRestore();
      datasync.mockRestore();
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('FilesystemContentStore appends to an unfinished file that is gone', () => {
  it('fail with ContentNotFoundError, with a body or an empty one', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-gone-'));
    try {
      const root = path.join(directory, 'store');
      const store = new FilesystemContentStore({ rootDirectory: root });
      await store.init();
      const key = 'v1/gone';
      const state = await store.append(key, await store.startAppend(key), Readable.from([Buffer.from('first chunk')]));
      await rm(path.join(root, APPENDING_DIR, appendingName(key)));
      await expect(store.append(key, state, Readable.from([]))).rejects.toThrow(ContentNotFoundError);
      await expect(store.append(key, state, Readable.from([Buffer.alloc(5000, 1)]))).rejects.toThrow(ContentNotFoundError);
      await expect(store.completeAppend(key, state, Readable.from([Buffer.alloc(10, 2)]))).rejects.toThrow(ContentNotFoundError);
      await expect(store.stat(key)).resolves.toBeUndefined();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('FilesystemContentStore.append syncs in the background', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-bgsync-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('answers before the sync of the appended bytes ends; close() waits for it, and the completion then has the bytes', async () => {
    const store = new FilesystemContentStore({ rootDirectory: path.join(directory, 'store') });
    await store.init();
    const held: Array<() => void> = [];
    const realDatasync = fs.fdatasync;
    const datasync = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => realDatasync(fd, done));
    }) as typeof fs.fdatasync);
    try {
      const key = 'v1/background';
      const chunk = Buffer.alloc(300 * 1024, 7);
      const state = await store.append(key, await store.startAppend(key), Readable.from([chunk]));
      expect(state.size).toBe(chunk.length);
      // The append has answered; its sync was asked for and is still held.
      expect(datasync).toHaveBeenCalledTimes(1);
      let closed = false;
      const closing = store.close().then(() => (closed = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(closed).toBe(false);
      held.shift()?.();
      await closing;
      expect(closed).toBe(true);
      datasync.mockRestore();
      await expect(store.completeAppend(key, state)).resolves.toEqual({ key, size: chunk.length });
      expect(await readFile(path.join(directory, 'store', ...key.split('/')))).toEqual(chunk);
    } finally {
      datasync.mockRestore();
      for (const release of held) release();
    }
  });

  it('does not sync a failed append in the background', async () => {
    const store = new FilesystemContentStore({ rootDirectory: path.join(directory, 'store') });
    await store.init();
    const datasync = jest.spyOn(fs, 'fdatasync');
    try {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(1000, 1);
        throw new Error('client went away');
      }
      const key = 'v1/failed';
      await expect(store.append(key, await store.startAppend(key), Readable.from(failing()))).rejects.toThrow();
      await store.close();
      expect(datasync).not.toHaveBeenCalled();
    } finally {
      datasync.mockRestore();
    }
  });

  it('removes the unfinished file when the background sync fails, and says so: the upload cannot complete on bytes the disk may not hold', async () => {
    const failures: Array<[string, unknown]> = [];
    const root = path.join(directory, 'store');
    const store = new FilesystemContentStore({ rootDirectory: root, onBackgroundSyncError: (file, error) => failures.push([file, error]) });
    await store.init();
    const datasync = jest.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, done: (error: NodeJS.ErrnoException | null) => void) => {
      setImmediate(() => done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    }) as typeof fs.fdatasync);
    const key = 'v1/lost';
    let state;
    try {
      state = await store.append(key, await store.startAppend(key), Readable.from([Buffer.alloc(5000, 3)]));
      await store.close();
    } finally {
      datasync.mockRestore();
    }
    expect(failures).toEqual([[path.join(root, APPENDING_DIR, appendingName(key)), expect.objectContaining({ code: 'EIO' })]]);
    await expect(readdir(path.join(root, APPENDING_DIR))).resolves.toEqual([]);
    await expect(store.completeAppend(key, state)).rejects.toThrow(ContentNotFoundError);
    await expect(store.stat(key)).resolves.toBeUndefined();
  });
});

describe('uniqueName', () => {
  it('gives 32 hex digits, a different name every time', () => {
    const names = Array.from({ length: 1000 }, () => uniqueName());
    expect(new Set(names).size).toBe(1000);
    for (const name of names) expect(name).toMatch(/^[0-9a-f]{32}$/);
  });
});
