import type { Readable } from 'node:stream';

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
}

/** JSON-serialisable state of an object being appended to; the caller persists it between appends. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export interface AppendState {
  /** Bytes appended and acknowledged so far. */
  size: number;
  [adapterField: string]: JsonValue;
}

/** Thrown by readers when the key does not exist. */
export class ContentNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`content not found: ${key}`);
    this.name = 'ContentNotFoundError';
  }
}

export interface ContentStatter {
  /** Size of a complete object, or undefined when absent. */
  stat(key: string): Promise<ObjectInfo | undefined>;
}

export interface ContentReader {
  /** Streams a complete object (or an inclusive range of it). Throws ContentNotFoundError when absent. */
  read(key: string, range?: ByteRange): Promise<Readable>;
}

export interface ContentWriter {
  /**
   * Writes a whole object from a stream, atomically: readers see all of it or nothing. Constant memory. Bytes
   * the caller already holds in memory (a manifest) can be given as they are, which saves the stream's work.
   */
  write(key: string, body: Readable | Buffer): Promise<ObjectInfo>;
}

export interface ContentDeleter {
  /** Removes an object; removing an absent object is not an error. */
  delete(key: string): Promise<void>;
}

export interface ContentLister {
  /** Keys of complete objects under a prefix, in no particular order. */
  list(prefix: string): AsyncIterable<string>;
}

/**
 * Objects written in several appends, possibly by different processes (chunked uploads on stateless replicas).
 * Every call takes the state returned by the previous one; nothing is kept in the adapter's memory. A failed
 * append leaves the object as it was at the given state (a retry from the same state is safe).
 */
export interface ContentAppender {
  startAppend(key: string): Promise<AppendState>;
  append(key: string, state: AppendState, body: Readable): Promise<AppendState>;
  /**
   * Makes the appended bytes a complete object at `key`, readable by ContentReader, without copying them.
   * Durable once it resolves. Appends before it need not be (a crash may lose them: the caller verifies the
   * completed object's digest whenever it did not hash every byte itself in this process's lifetime).
   * With `body`, its bytes are appended first, as the last chunk: what `append` then `completeAppend` do, in one
   * step (one open file and one sync on a filesystem; one request for a small object on S3). If it fails, nothing
   * is visible at `key` unless it was already complete, and the append can go on from `state`.
   */
  completeAppend(key: string, state: AppendState, body?: Readable): Promise<ObjectInfo>;
  /** Discards an unfinished append and everything it stored. */
  abortAppend(key: string, state: AppendState): Promise<void>;
}

/** Removes the leftovers of abandoned uploads, which otherwise stay in the store forever. */
export interface ContentPurger {
  /**
   * Removes what unfinished appends (and interrupted whole writes) left behind that was last written
   * before `cutoff`: abandoned uploads. Never touches complete objects, nor anything written at or after the
   * cutoff. Returns how many leftovers it removed.
   */
  purgeUnfinished(cutoff: Date): Promise<number>;
}

/** For adapters: a purge cutoff as epoch milliseconds. An invalid Date is an error (it would purge nothing or all). */
export function purgeCutoffMs(cutoff: Date): number {
  const time = cutoff instanceof Date ? cutoff.getTime() : Number.NaN;
  if (Number.isNaN(time)) throw new TypeError(`invalid purge cutoff: ${String(cutoff)}`);
  return time;
}

/** The content store port: every adapter implements all the roles and passes the shared contract suite. */
export interface ContentStore
  extends ContentStatter, ContentReader, ContentWriter, ContentDeleter, ContentLister, ContentAppender, ContentPurger {
  readonly kind: 'filesystem' | 's3';
  /** Checks the backend is reachable (and creates the bucket or root when missing). */
  init(): Promise<void>;
  close(): Promise<void>;
}
