import { opendir } from 'node:fs/promises';
import path from 'node:path';
import { isMissing } from './fs-files';

const SEGMENT = /^[a-zA-Z0-9._:-]+$/;

function isKeySegment(name: string): boolean {
  return name !== '.' && name !== '..' && SEGMENT.test(name);
}

/**
 * Keys of the regular files under `root` that start with `prefix`, walking only the directories that can
 * hold such keys, one directory handle at a time (constant memory besides the recursion depth). Entries whose
 * names are not key segments (the temporary and appending areas) are skipped.
 */
export async function* walkKeys(root: string, prefix: string): AsyncGenerator<string> {
  const slash = prefix.lastIndexOf('/');
  const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
  yield* walkDirectory(path.join(root, base), base, prefix);
}

async function* walkDirectory(dir: string, relative: string, prefix: string): AsyncGenerator<string> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  for await (const entry of handle) {
    if (!isKeySegment(entry.name)) continue;
    const key = relative + entry.name;
    if (entry.isDirectory()) {
      const sub = `${key}/`;
      if (sub.startsWith(prefix) || prefix.startsWith(sub)) yield* walkDirectory(path.join(dir, entry.name), sub, prefix);
    } else if (entry.isFile() && key.startsWith(prefix)) {
      yield key;
    }
  }
}
