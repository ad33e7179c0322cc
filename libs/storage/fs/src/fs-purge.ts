import { lstat, opendir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isMissing } from './fs-files';

/**
 * Removes the regular files directly in `dir` whose mtime is before `cutoffMs` and returns how many it removed.
 * One directory handle streams the entries (constant memory however many there are); a missing directory holds
 * nothing. The flat `!tmp` and `!appending` areas are the only callers: every write and append rewrites its
 * file's mtime as it goes, so only a file idle since before the cutoff qualifies.
 *
 * The mtime is checked right before the unlink, not atomically with it: an upload idle for the whole TTL that
 * resumes in that instant writes into the unlinked file, and its next append or completion fails with
 * ContentNotFoundError (nothing wrong is ever made visible).
 */
export async function removeFilesModifiedBefore(dir: string, cutoffMs: number): Promise<number> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
  let removed = 0;
  for await (const entry of handle) {
    if (!entry.isFile()) continue;
    const file = path.join(dir, entry.name);
    try {
      const info = await lstat(file);
      if (!info.isFile() || !(info.mtimeMs < cutoffMs)) continue;
      await unlink(file);
      removed += 1;
    } catch (error) {
      // Completed, aborted or purged by another replica meanwhile.
      if (!isMissing(error)) throw error;
    }
  }
  return removed;
}

