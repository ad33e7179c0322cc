import { spawn } from 'node:child_process';
import fsPromises from 'node:fs/promises';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE } from './layout';
import { acquireLock } from './lock';

/** A process that exited: its PID is dead (for this test's span). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

/**
 * `count` processes that call acquireLock on `directory` at the same moment; each reports "won" or "lost" and
 * holds what it got until every one has reported (so a late starter meets a living holder, not a stale lock).
 */
async function race(directory: string, count: number): Promise<string[]> {
  const lockModule = join(__dirname, 'lock.ts');
  const at = Date.now() + 3000;
  const script = `
    const { acquireLock } = require(${JSON.stringify(lockModule)});
    setInterval(() => undefined, 1000);
    setTimeout(() => acquireLock(${JSON.stringify(directory)}).then(
      () => process.stdout.write('won'),
      (error) => process.stdout.write(/locked by process/.test(error.message) ? 'lost' : 'error: ' + error.message),
    ), ${at} - Date.now());`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  try {
    return await Promise.all(
      children.map(
        (child) =>
          new Promise<string>((resolve, reject) => {
            child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
            child.once('exit', (code) => reject(new Error(`a racer exited (${code}) without a word`)));
          }),
      ),
    );
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
}

describe('acquireLock', () => {
  let directory: string;
  beforeEach(async () => (directory = await mkdtemp(join(tmpdir(), 'ocireg-lock-'))));
  afterEach(async () => rm(directory, { recursive: true, force: true }));

  it('takes over a lock left by a dead process, and leaves nothing but the lock behind', async () => {
    await writeFile(join(directory, LOCK_FILE), `${await deadPid()}\n`);
    const release = await acquireLock(directory);
    expect(await readFile(join(directory, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    expect(await readdir(directory)).toEqual([LOCK_FILE]);
    await release();
    expect(await readdir(directory)).toEqual([]);
  });

  it('a takeover left by a process that died while taking over does not block the lock for long', async () => {
    await writeFile(join(directory, LOCK_FILE), `${await deadPid()}\n`);
    const takeover = join(directory, `${LOCK_FILE}.takeover`);
    await writeFile(takeover, `${await deadPid()}\n`);
    const old = new Date(Date.now() - 60_000);
    await utimes(takeover, old, old);
    const release = await acquireLock(directory);
    expect(await readdir(directory)).toEqual([LOCK_FILE]);
    await release();
  });

  it('on a filesystem without hard links, creates the lock directly', async () => {
    const link = jest.spyOn(fsPromises, 'link').mockRejectedValue(Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' }));
    try {
      const release = await acquireLock(directory);
      expect(link).toHaveBeenCalled();
      expect(await readFile(join(directory, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
      expect(await readdir(directory)).toEqual([LOCK_FILE]);
      await release();
    } finally {
      link.mockRestore();
    }
  });

  it('refuses a lock held by a living process', async () => {
    await writeFile(join(directory, LOCK_FILE), `${process.ppid}\n`);
    await expect(acquireLock(directory)).rejects.toThrow(`locked by process ${process.ppid}`);
    expect(await readFile(join(directory, LOCK_FILE), 'utf8')).toBe(`${process.ppid}\n`);
  });

  it.each(['no lock', 'a stale lock'])('of processes starting together (%s), exactly one takes the lock', async (start) => {
    if (start === 'a stale lock') await writeFile(join(directory, LOCK_FILE), `${await deadPid()}\n`);
    const results = await race(directory, 6);
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'lost')).toHaveLength(5);
  }, 30_000);
});
