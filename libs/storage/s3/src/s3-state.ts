import { randomBytes } from 'node:crypto';
import { type AppendState, assertValidKey } from '@ocireg/storage';

/** S3 allows part numbers 1..10000. */
export const MAX_PARTS = 10_000;

export type S3Part = { part: number; etag: string };

/**
 * The append state of the S3 adapter, persisted by the caller as JSON between appends.
 * - `partSize`: the size of every part but the last, fixed when the append starts (a configuration change does
 *   not break appends in progress).
 * - `uploadId`/`parts`: the multipart upload at the object's own key, started once a full part exists.
 * - `tailKey`/`tailSize`: the bytes after the last full part (< partSize), kept in a small hidden object.
 * - `staleTailKey`: the tail this state replaced. It is deleted by the next call that receives this state, not
 *   when this state is returned, so a caller that loses the returned state can still retry from the previous one.
 */
export type S3AppendState = AppendState & {
  partSize: number;
  uploadId: string | null;
  parts: S3Part[];
  tailKey: string | null;
  tailSize: number;
  staleTailKey: string | null;
};

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;

export function initialState(partSize: number): S3AppendState {
  return { size: 0, partSize, uploadId: null, parts: [], tailKey: null, tailSize: 0, staleTailKey: null };
}

/** Where keys live in the bucket: `<root><key>` for objects, `<root>!tails/<key with ! for />.<random>` for tails. */
export class S3Names {
  readonly root: string;
  readonly tailArea: string;

  constructor(rootDirectory: string | undefined) {
    const trimmed = (rootDirectory ?? '').replace(/^\/+|\/+$/g, '');
    if (trimmed !== '') assertValidKey(trimmed);
    this.root = trimmed === '' ? '' : `${trimmed}/`;
    // '!' is not a valid key character, so no key can collide with the tail area.
    this.tailArea = `${this.root}!tails/`;
  }

  object(key: string): string {
    assertValidKey(key);
    return this.root + key;
  }

  newTail(key: string): string {
    return `${this.tailPrefix(key)}${randomBytes(8).toString('hex')}`;
  }

  /**
   * Tails sit flat in one area ('/' in the key becomes '!', still unambiguous), so deleting one never leaves an
   * empty "directory" behind: s3rver's filesystem store races removing those under concurrent deletes. The
   * prefix of a key also starts the tails of longer keys (`a/b.` of `a/b.c`): tell them apart with `isTailOf`.
   */
  tailPrefix(key: string): string {
    assertValidKey(key);
    return `${this.tailArea}${key.replaceAll('/', '!')}.`;
  }

  /** The key of a listed object, or undefined when the name is not a complete object of this store. */
  keyOf(name: string): string | undefined {
    if (!name.startsWith(this.root) || name.startsWith(this.tailArea)) return undefined;
    return name.slice(this.root.length);
  }

  isTailOf(key: string, name: string): boolean {
    const prefix = this.tailPrefix(key);
    return name.startsWith(prefix) && /^[0-9a-f]{16}$/.test(name.slice(prefix.length));
  }

  /** Checks a tail name taken from a caller-supplied state really is a tail of this key. */
  assertTailOf(key: string, name: string | null): void {
    if (name !== null && !this.isTailOf(key, name)) {
      throw new Error(`append state of ${key} names a foreign tail object: ${name}`);
    }
  }
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isNullableString = (value: unknown): value is string | null => value === null || typeof value === 'string';

function isPart(value: unknown, index: number): value is S3Part {
  if (typeof value !== 'object' || value === null) return false;
  const { part, etag } = value as Record<string, unknown>;
  return part === index + 1 && typeof etag === 'string' && etag.length > 0;
}

/** Validates a state received from the caller (it crossed a process boundary as JSON) for `key`. */
export function parseState(key: string, state: AppendState, names: S3Names): S3AppendState {
  const { size, partSize, uploadId, parts, tailKey, tailSize, staleTailKey } = state as Record<string, unknown>;
  const valid =
    isCount(size) && isCount(partSize) && partSize >= MIN_PART_SIZE && partSize <= MAX_PART_SIZE &&
    isNullableString(uploadId) && uploadId !== '' && Array.isArray(parts) && parts.every(isPart) &&
    isNullableString(tailKey) && isCount(tailSize) && tailSize < partSize && (tailKey === null) === (tailSize === 0) &&
    (staleTailKey === undefined || isNullableString(staleTailKey)) && (uploadId === null) === (parts.length === 0) &&
    size === parts.length * partSize + tailSize;
  if (!valid) throw new Error(`invalid append state for ${key}: ${JSON.stringify(state)}`);
  names.assertTailOf(key, tailKey);
  names.assertTailOf(key, staleTailKey ?? null);
  return { size, partSize, uploadId, parts, tailKey, tailSize, staleTailKey: staleTailKey ?? null };
}
