import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
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
      const left = await readdir(directory);
      await rm(directory, { recursive: true, force: true });
      if (left.length > 0) {
        throw new Error(`contract suite left files behind: ${left.join(', ')}`);
      }
    },
  };
});

describe('FileUploadSessionStore', () => {
  let directory: string;
  let store: FileUploadSessionStore;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ocireg-sessions-'));
    store = new FileUploadSessionStore({ directory });
    await store.init();
  });

  afterEach(async () => {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('rejects ids that are not safe file names on create, and finds nothing under them', async () => {
    for (const id of ['../escape', 'a/b', '', 'x'.repeat(65), 'dot.dot', 'spa ce', 'nul\u0000']) {
      await expect(store.create(session(id), 60)).rejects.toBeInstanceOf(InvalidUploadSessionIdError);
      await expect(store.get(id)).resolves.toBeUndefined();
      await expect(store.compareAndSet(id, 1, session(id, 2), 60)).resolves.toBe(false);
      await expect(store.delete(id)).resolves.toBe(false);
    }
    await store.create(session('A-z0-9'), 60);
    await store.create(session('x'.repeat(64)), 60);
    expect((await readdir(directory)).sort()).toEqual(['A-z0-9.json', `${'x'.repeat(64)}.json`]);
  });

  it('rejects compareAndSet with a session whose id differs', async () => {
    await store.create(session('one'), 60);
    await expect(store.compareAndSet('one', 1, session('two', 2), 60)).rejects.toThrow(/id/);
  });

  it('writes one JSON file per session holding its expiry, and no temp files', async () => {
    const before = Date.now();
    await store.create(session('abc'), 30);
    await store.compareAndSet('abc', 1, session('abc', 2), 30);
    expect(await readdir(directory)).toEqual(['abc.json']);
    const file = JSON.parse(await readFile(join(directory, 'abc.json'), 'utf8'));
    expect(file.session).toEqual(session('abc', 2));
    expect(file.expiresAt).toBeGreaterThanOrEqual(before + 30_000);
    expect(file.expiresAt).toBeLessThanOrEqual(Date.now() + 30_000);
  });

  it('deletes an expired file when it is read', async () => {
    await writeSessionFile(directory, session('old'), Date.now() - 1);
    await expect(store.get('old')).resolves.toBeUndefined();
    expect(await readdir(directory)).toEqual([]);
  });

  it('sweeps expired sessions and leftover temp files on init, keeping live ones', async () => {
    await store.close();
    await writeSessionFile(directory, session('expired'), Date.now() - 1000);
    await writeSessionFile(directory, session('live'), Date.now() + 60_000);
    await writeFile(join(directory, 'live.json.0123abcd.tmp'), '{"half":');
    await writeFile(join(directory, 'unrelated.txt'), 'not ours');

    store = new FileUploadSessionStore({ directory });
    await store.init();
    expect((await readdir(directory)).sort()).toEqual(['live.json', 'unrelated.txt']);
    await expect(store.get('live')).resolves.toEqual(session('live'));
  });

  it('sweeps expired sessions periodically', async () => {
    await store.close();
    store = new FileUploadSessionStore({ directory, sweepIntervalMs: 50 });
    await store.init();
    await store.create(session('short'), 0.1);
    await store.create(session('long'), 60);
    await waitFor(async () => (await readdir(directory)).length === 1, 3_000);
    expect(await readdir(directory)).toEqual(['long.json']);
  });

  it('leaves a recent temp file alone in a periodic sweep but removes a stale one', async () => {
    const fresh = join(directory, 'a.json.000000000001.tmp');
    const stale = join(directory, 'b.json.000000000002.tmp');
    await writeFile(fresh, '');
    await writeFile(stale, '');
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await utimes(stale, longAgo, longAgo);
    await store.sweep();
    expect(await readdir(directory)).toEqual(['a.json.000000000001.tmp']);
  });

  it('reports a corrupt session file instead of treating it as absent', async () => {
    await writeFile(join(directory, 'bad.json'), 'not json');
    await expect(store.get('bad')).rejects.toThrow(/corrupt/);
    await store.sweep(); // the sweep skips it rather than failing
    expect(await readdir(directory)).toEqual(['bad.json']);
  });

  it('reads an empty session file (what a power loss can leave of an unsynced write) as no session, and removes it', async () => {
    await writeFile(join(directory, 'torn.json'), '');
    await expect(store.get('torn')).resolves.toBeUndefined();
    expect(await readdir(directory)).toEqual([]);
    await store.create(session('torn'), 60);
    await expect(store.get('torn')).resolves.toEqual(session('torn'));
  });

  it('gives every reader its own copy of a session (a caller changing it changes nothing stored)', async () => {
    await store.create(session('mine'), 60);
    const first = (await store.get('mine')) as UploadSession;
    first.version = 99;
    first.append.size = 12345;
    await expect(store.get('mine')).resolves.toEqual(session('mine'));
    await expect(store.compareAndSet('mine', 1, session('mine', 2), 60)).resolves.toBe(true);
    const reopened = new FileUploadSessionStore({ directory, sweepIntervalMs: 0 });
    await reopened.init();
    await expect(reopened.get('mine')).resolves.toEqual(session('mine', 2));
    await reopened.close();
  });

  it('serialises create against compareAndSet and delete on the same id', async () => {
    const results = await Promise.allSettled([
      store.create(session('race'), 60),
      store.compareAndSet('race', 1, session('race', 2), 60),
      store.create(session('race'), 60),
      store.delete('race'),
      store.get('race'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
      undefined, true, 'rejected', true, undefined,
    ]);
  });

  it('creates the directory on init', async () => {
    const nested = join(directory, 'a', 'b');
    const other = new FileUploadSessionStore({ directory: nested, sweepIntervalMs: 0 });
    await other.init();
    await other.create(session('n'), 60);
    expect(await readdir(nested)).toEqual(['n.json']);
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
