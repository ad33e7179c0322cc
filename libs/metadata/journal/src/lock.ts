import { randomBytes } from 'node:crypto';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_FILE } from './layout';

/** Lock files held by this process (a second open in the same process must fail too). */
const held = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

/** How long a takeover may take before another process takes its file for one left by a crash. */
const TAKEOVER_ABANDONED_MS = 10_000;

/** The PID a lock file names, if it is a living process other than this one. */
function heldByAnother(content: string): number | undefined {
  const pid = Number.parseInt(content, 10);
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

/**
 * Takes the store's lock file, holding our PID. A lock whose process is alive makes the open fail; one left by a
 * dead process (or by an earlier run with our own PID, as PID 1 in a container) is taken over. Returns the
 * release function.
 *
 * Safe against processes starting together: the lock file appears with the PID already in it (written to a file
 * of our own, then hard-linked into place, which fails if the lock exists), so no one reads an empty lock and
 * takes it for a stale one; and a stale lock is removed only by the one process holding `LOCK.takeover`
 * (created the same way), after it read the lock again and found it still stale: no live lock is ever removed.
 */
export async function acquireLock(directory: string): Promise<() => Promise<void>> {
  const path = join(directory, LOCK_FILE);
  if (held.has(path)) throw new Error(`the metadata journal in ${directory} is already open in this process`);
  const ours = `${process.pid}\n`;
  const takeover = `${path}.takeover`;
  const deadline = Date.now() + 2 * TAKEOVER_ABANDONED_MS;
  while (Date.now() < deadline) {
    if (await createWith(path, ours)) {
      held.add(path);
      return async () => {
        held.delete(path);
        const owner = await readFile(path, 'utf8').catch(() => '');
        if (Number.parseInt(owner, 10) === process.pid) await unlink(path).catch(() => undefined);
      };
    }
    const content = await readFile(path, 'utf8').catch(() => undefined);
    if (content === undefined) continue; // released meanwhile
    const holder = heldByAnother(content);
    if (holder !== undefined) {
      throw new Error(`the metadata journal in ${directory} is locked by process ${holder} (${path}): only one process may open it`);
    }
    if (!(await createWith(takeover, ours))) {
      await removeIfAbandoned(takeover);
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
      continue;
    }
    try {
      const again = await readFile(path, 'utf8').catch(() => undefined);
      if (again !== undefined && heldByAnother(again) === undefined) await unlink(path).catch(ignoreMissing);
    } finally {
      await unlink(takeover).catch(ignoreMissing);
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

/** Creates `path` holding `content`, atomically: false if it exists. */
async function createWith(path: string, content: string): Promise<boolean> {
  const own = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  if (!(await createDirectly(own, content))) throw new Error(`${own} exists already`);
  try {
    await link(own, path);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    // A filesystem without hard links (some network and FUSE mounts): an exclusive create, then the content.
    return createDirectly(path, content);
  } finally {
    await unlink(own).catch(ignoreMissing);
  }
}

/** An exclusive create of `path`, then `content` written and synced: false if it exists. */
async function createDirectly(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** A takeover file left by a process that died while it held it. */
async function removeIfAbandoned(takeover: string): Promise<void> {
  const info = await stat(takeover).catch(() => undefined);
  if (info && Date.now() - info.mtimeMs > TAKEOVER_ABANDONED_MS) await unlink(takeover).catch(ignoreMissing);
}

function ignoreMissing(error: unknown): void {
  if (!isErrno(error, 'ENOENT')) throw error;
}
