import { open, readFile, unlink } from 'node:fs/promises';
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

/**
 * Takes the store's lock file (created exclusively, holding our PID). A lock whose process is alive makes the
 * open fail; one left by a dead process (or by an earlier run with our own PID, as PID 1 in a container) is
 * taken over. Returns the release function.
 */
export async function acquireLock(directory: string): Promise<() => Promise<void>> {
  const path = join(directory, LOCK_FILE);
  if (held.has(path)) throw new Error(`the metadata journal in ${directory} is already open in this process`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      held.add(path);
      return async () => {
        held.delete(path);
        const owner = await readFile(path, 'utf8').catch(() => '');
        if (Number.parseInt(owner, 10) === process.pid) await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`the metadata journal in ${directory} is locked by process ${pid} (${path}): only one process may open it`);
      }
      await unlink(path).catch((unlinkError: unknown) => {
        if (!isErrno(unlinkError, 'ENOENT')) throw unlinkError;
      });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
