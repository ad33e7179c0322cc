import fs from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UploadSession } from '@ocireg/sessions';
import { describeUploadSessionStoreContract } from '@ocireg/sessions-testsuite';
import { FileUploadSessionStore, InvalidUploadSessionIdError } from './index';

describeUploadSessionStoreContract('file', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'ocireg-sessions-'));
  let current = new FileUploadSessionStore({ directory });
  await current.init();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new FileUploadSessionStore({ directory });
      await current.init();
      return current;
    },
    teardown: async () => {
      await current.close();
      // Reopening rewrites the log with the live sessions only: none may be left.
      const last = new FileUploadSessionStore({ directory, sweepIntervalMs: 0 });
      await last.init();
      await last.close();
      const left = await readdir(directory);
      const log = left.includes('sessions.log') ? await readFile(join(directory, 'sessions.log'), 'utf8') : '';
      await rm(directory, { recursive: true, force: true });
      if (left.some((name) => name !== 'sessions.log') || log !== '') {
        throw new Error(`contract suite left sessions behind: ${left.join(', ')} ${log}`);
      }
    },
  };
});

describe('FileUploadSessionStore', () => {
  let directory: string;
  let store: FileUploadSessionStore;
  const logOf = async (): Promise<string[]> => (await readFile(join(directory, 'sessions.log'), 'utf8')).split('\n').filter(Boolean);
  const reopen = async (options: { compactAfterBytes?: number } = {}): Promise<FileUploadSessionStore> => {
    await store.close();
    store = new FileUploadSessionStore({ directory, sweepIntervalMs: 0, ...options });
    await store.init();
    return store;
  };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ocireg-sessions-'));
    store = new FileUploadSessionStore({ directory });
    await store.init();
  });

  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('rejects ids outside [a-zA-Z0-9-]{1,64} on create, and finds nothing under them', async () => {
    for (const id of ['../escape', 'a/b', '', 'x'.repeat(65), 'dot.dot', 'spa ce', 'nul\u0000']) {
      await expect(store.create(session(id), 60)).rejects.toBeInstanceOf(InvalidUploadSessionIdError);
      await expect(store.get(id)).resolves.toBeUndefined();
      await expect(store.compareAndSet(id, 1, session(id, 2), 60)).resolves.toBe(false);
      await expect(store.delete(id)).resolves.toBe(false);
    }
    await store.create(session('A-z0-9'), 60);
    await store.create(session('x'.repeat(64)), 60);
    await expect(store.get('x'.repeat(64))).resolves.toEqual(session('x'.repeat(64)));
  });

  it('rejects compareAndSet with a session whose id differs', async () => {
    await store.create(session('one'), 60);
    await expect(store.compareAndSet('one', 1, session('two', 2), 60)).rejects.toThrow(/id/);
  });

  it('appends one line per change, each session with its expiry, to one log file', async () => {
    const before = Date.now();
    await store.create(session('abc'), 30);
    await store.compareAndSet('abc', 1, session('abc', 2), 30);
    await store.create(session('gone'), 30);
    await store.delete('gone');
    expect(await readdir(directory)).toEqual(['sessions.log']);
    const lines = (await logOf()).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.s?.id ?? `-${line.d}`)).toEqual(['abc', 'abc', 'gone', '-gone']);
    expect(lines[1].s).toEqual(session('abc', 2));
    expect(lines[1].e).toBeGreaterThanOrEqual(before + 30_000);
    expect(lines[1].e).toBeLessThanOrEqual(Date.now() + 30_000);
  });

  it('writes the lines of concurrent changes together, in the order they were made', async () => {
    const log = (store as unknown as { log: { write: (...args: unknown[]) => Promise<unknown> } }).log;
    const write = log.write.bind(log);
    let writes = 0;
    log.write = (...args: unknown[]) => {
      writes += 1;
      return write(...args);
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(session(`s${i}`), 60)));
    expect(writes).toBeLessThan(10);
    expect((await logOf()).map((line) => JSON.parse(line).s.id)).toEqual(Array.from({ length: 50 }, (_, i) => `s${i}`));
  });

  it('restores live sessions on reopen, without the expired and deleted ones, and rewrites the log with them only', async () => {
    await store.create(session('kept'), 60);
    await store.compareAndSet('kept', 1, session('kept', 2), 60);
    await store.create(session('short'), 0.05);
    await store.create(session('deleted'), 60);
    await store.delete('deleted');
    await new Promise((resolve) => setTimeout(resolve, 80));
    await reopen();
    await expect(store.get('kept')).resolves.toEqual(session('kept', 2));
    await expect(store.get('short')).resolves.toBeUndefined();
    await expect(store.get('deleted')).resolves.toBeUndefined();
    expect((await logOf()).map((line) => JSON.parse(line).s.id)).toEqual(['kept']);
  });

  it('skips a line cut short by a crash (and any that does not parse) when the log is read back', async () => {
    await store.create(session('whole'), 60);
    await store.close();
    await appendFile(join(directory, 'sessions.log'), 'not json\n{"s":{"id":"torn","vers');
    await reopen();
    await expect(store.get('whole')).resolves.toEqual(session('whole'));
    await expect(store.get('torn')).resolves.toBeUndefined();
    await store.create(session('torn'), 60);
    await reopen();
    await expect(store.get('torn')).resolves.toEqual(session('torn'));
  });

  it('rewrites the log once it has grown past its limit, keeping every live session', async () => {
    await reopen({ compactAfterBytes: 2_000 });
    await store.create(session('steady'), 60);
    for (let version = 1; version < 40; version++) {
      await store.compareAndSet('steady', version, session('steady', version + 1), 60);
    }
    expect((await logOf()).length).toBeLessThan(40);
    await reopen();
    await expect(store.get('steady')).resolves.toEqual(session('steady', 40));
  });

  it('does not rewrite the log at every change when the live sessions alone pass the limit', async () => {
    await reopen({ compactAfterBytes: 1_000 });
    for (let i = 0; i < 20; i++) await store.create(session(`live-${i}`), 60);
    const compact = jest.spyOn(store as unknown as { compact: () => Promise<void> }, 'compact');
    for (let i = 0; i < 20; i++) await store.compareAndSet(`live-${i}`, 1, session(`live-${i}`, 2), 60);
    // About 5 kB live: a rewrite once the log has doubled, not after each of the 20 changes.
    expect(compact.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(compact.mock.calls.length).toBeLessThanOrEqual(3);
    await reopen();
    for (let i = 0; i < 20; i++) await expect(store.get(`live-${i}`)).resolves.toEqual(session(`live-${i}`, 2));
  });

  it('forgets expired sessions on read and in the periodic sweep', async () => {
    await store.close();
    store = new FileUploadSessionStore({ directory, sweepIntervalMs: 50 });
    await store.init();
    await store.create(session('short'), 0.1);
    await store.create(session('long'), 60);
    const live = (store as unknown as { live: Map<string, unknown> }).live;
    await waitFor(async () => live.size === 1, 3_000);
    await expect(store.get('short')).resolves.toBeUndefined();
    await expect(store.create(session('short'), 60)).resolves.toBe(true);
  });

  it('takes in the sessions an earlier version kept as files (live ones), and removes those files', async () => {
    await store.close();
    await writeSessionFile(directory, session('expired'), Date.now() - 1000);
    await writeSessionFile(directory, session('live'), Date.now() + 60_000);
    await writeFile(join(directory, 'torn.json'), '');
    await writeFile(join(directory, 'live.json.0123abcd.tmp'), '{"half":');
    await writeFile(join(directory, 'unrelated.txt'), 'not ours');
    store = new FileUploadSessionStore({ directory, sweepIntervalMs: 0 });
    await store.init();
    expect((await readdir(directory)).sort()).toEqual(['sessions.log', 'unrelated.txt']);
    await expect(store.get('live')).resolves.toEqual(session('live'));
    await expect(store.get('expired')).resolves.toBeUndefined();
    await expect(store.get('torn')).resolves.toBeUndefined();
  });

  it('gives every reader its own copy of a session (a caller changing it changes nothing stored)', async () => {
    await store.create(session('mine'), 60);
    const first = (await store.get('mine')) as UploadSession;
    first.version = 99;
    first.append.size = 12345;
    await expect(store.get('mine')).resolves.toEqual(session('mine'));
    await expect(store.compareAndSet('mine', 1, session('mine', 2), 60)).resolves.toBe(true);
    await reopen();
    await expect(store.get('mine')).resolves.toEqual(session('mine', 2));
  });

  it('orders create, compareAndSet and delete on the same id as they were called', async () => {
    const results = await Promise.allSettled([
      store.create(session('race'), 60),
      store.compareAndSet('race', 1, session('race', 2), 60),
      store.create(session('race'), 60),
      store.delete('race'),
      store.get('race'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([true, true, false, true, undefined]);
  });

  it('a failed write fails the operations waiting for it', async () => {
    const write = jest.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    try {
      await expect(store.create(session('nospace'), 60)).rejects.toThrow(/ENOSPC/);
      await expect(store.create(session('space-again'), 60)).resolves.toBe(true);
    } finally {
      write.mockRestore();
    }
  });

  it('undoes in memory a change whose line could not be written, as a restart would see it', async () => {
    await store.create(session('kept'), 60);
    const failures = () =>
      jest.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      });
    let write = failures();
    try {
      await expect(store.create(session('lost'), 60)).rejects.toThrow(/EIO/);
      write.mockRestore();
      write = failures();
      await expect(store.compareAndSet('kept', 1, session('kept', 2), 60)).rejects.toThrow(/EIO/);
      write.mockRestore();
      write = failures();
      await expect(store.delete('kept')).rejects.toThrow(/EIO/);
    } finally {
      write.mockRestore();
    }
    const inMemory = [await store.get('lost'), await store.get('kept')];
    await reopen();
    expect(inMemory).toEqual([undefined, session('kept')]);
    expect([await store.get('lost'), await store.get('kept')]).toEqual(inMemory);
  });

  it('creates the directory on init', async () => {
    const nested = join(directory, 'a', 'b');
    const other = new FileUploadSessionStore({ directory: nested, sweepIntervalMs: 0 });
    await other.init();
    await other.create(session('n'), 60);
    expect(await readdir(nested)).toEqual(['sessions.log']);
    await other.close();
  });
});

function session(id: string, version = 1): UploadSession {
  return {
    id,
    repository: 'library/x',
    storageKey: `uploads/${id}`,
    append: { size: version * 10 },
    version,
    createdAt: 1,
    updatedAt: version,
  };
}

async function writeSessionFile(directory: string, value: UploadSession, expiresAt: number): Promise<void> {
  await writeFile(join(directory, `${value.id}.json`), JSON.stringify({ format: 1, expiresAt, session: value }));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
