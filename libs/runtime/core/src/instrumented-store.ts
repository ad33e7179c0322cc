import type { Readable } from 'node:stream';
import { finished } from 'node:stream';
import type { StorageMetrics } from '@ocireg/observability';
import { secondsSince } from '@ocireg/observability';
import type { AppendState, ByteRange, ContentStore, ObjectInfo } from '@ocireg/storage';

/**
 * A content store decorator that times every operation of the store it wraps, by operation, and counts
 * failures. Reads are timed until their stream ends, listings until they are exhausted; bytes pass untouched.
 */
export class InstrumentedContentStore implements ContentStore {
  constructor(
    private readonly inner: ContentStore,
    private readonly metrics: StorageMetrics,
  ) {}

  get kind(): ContentStore['kind'] {
    return this.inner.kind;
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.timed('stat', () => this.inner.stat(key));
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const start = process.hrtime.bigint();
    let stream: Readable;
    try {
      stream = await this.inner.read(key, range);
    } catch (error) {
      this.observe('read', start, error);
      throw error;
    }
    // finished() listens for end/error/close only: it never puts the stream into flowing mode.
    finished(stream, (error) => this.observe('read', start, error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE' ? error : undefined));
    return stream;
  }

  write(key: string, body: Readable): Promise<ObjectInfo> {
    return this.timed('write', () => this.inner.write(key, body));
  }

  delete(key: string): Promise<void> {
    return this.timed('delete', () => this.inner.delete(key));
  }

  async *list(prefix: string): AsyncIterable<string> {
    const start = process.hrtime.bigint();
    try {
      yield* this.inner.list(prefix);
    } catch (error) {
      this.observe('list', start, error);
      throw error;
    }
    this.observe('list', start);
  }

  startAppend(key: string): Promise<AppendState> {
    return this.timed('startAppend', () => this.inner.startAppend(key));
  }

  append(key: string, state: AppendState, body: Readable): Promise<AppendState> {
    return this.timed('append', () => this.inner.append(key, state, body));
  }

  completeAppend(key: string, state: AppendState): Promise<ObjectInfo> {
    return this.timed('completeAppend', () => this.inner.completeAppend(key, state));
  }

  abortAppend(key: string, state: AppendState): Promise<void> {
    return this.timed('abortAppend', () => this.inner.abortAppend(key, state));
  }

  purgeUnfinished(cutoff: Date): Promise<number> {
    return this.timed('purgeUnfinished', () => this.inner.purgeUnfinished(cutoff));
  }

  private async timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      const result = await run();
      this.observe(operation, start);
      return result;
    } catch (error) {
      this.observe(operation, start, error);
      throw error;
    }
  }

  private observe(operation: string, start: bigint, error?: unknown): void {
    this.metrics.duration.observe({ operation }, secondsSince(start));
    if (error) this.metrics.errors.inc({ operation });
  }
}
