import type { Readable } from 'node:stream';
import { finished } from 'node:stream';
import type { Span, StorageMetrics, Tracer } from '@ocireg/observability';
import { SpanKind, failSpan, hasActiveSpan, inSpan, secondsSince } from '@ocireg/observability';
import type { AppendState, ByteRange, ContentStore, ObjectInfo } from '@ocireg/storage';

/**
 * A content store decorator that times every operation of the store it wraps, by operation, and counts
 * failures; with a tracer, each operation is also a client span (`storage <operation>`). Reads are timed until
 * their stream ends, listings until they are exhausted; bytes pass untouched.
 */
export class InstrumentedContentStore implements ContentStore {
  constructor(
    private readonly inner: ContentStore,
    private readonly metrics: StorageMetrics,
    private readonly tracer?: Tracer,
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
    return this.timed('stat', () => this.inner.stat(key), key);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const start = process.hrtime.bigint();
    const span = this.childSpan('read', key);
    let stream: Readable;
    try {
      stream = await this.inner.read(key, range);
    } catch (error) {
      this.observe('read', start, error, span);
      throw error;
    }
    // finished() listens for end/error/close only: it never puts the stream into flowing mode.
    finished(stream, (error) => this.observe('read', start, error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE' ? error : undefined, span));
    return stream;
  }

  write(key: string, body: Readable | Buffer): Promise<ObjectInfo> {
    return this.timed('write', () => this.inner.write(key, body), key);
  }

  delete(key: string): Promise<void> {
    return this.timed('delete', () => this.inner.delete(key), key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    const start = process.hrtime.bigint();
    const span = this.childSpan('list', prefix);
    try {
      yield* this.inner.list(prefix);
    } catch (error) {
      this.observe('list', start, error, span);
      throw error;
    }
    this.observe('list', start, undefined, span);
  }

  startAppend(key: string): Promise<AppendState> {
    return this.timed('startAppend', () => this.inner.startAppend(key), key);
  }

  append(key: string, state: AppendState, body: Readable): Promise<AppendState> {
    return this.timed('append', () => this.inner.append(key, state, body), key);
  }

  completeAppend(key: string, state: AppendState, body?: Readable): Promise<ObjectInfo> {
    return this.timed('completeAppend', () => this.inner.completeAppend(key, state, body), key);
  }

  abortAppend(key: string, state: AppendState): Promise<void> {
    return this.timed('abortAppend', () => this.inner.abortAppend(key, state), key);
  }

  purgeUnfinished(cutoff: Date): Promise<number> {
    return this.timed('purgeUnfinished', () => this.inner.purgeUnfinished(cutoff));
  }

  private timed<T>(operation: string, run: () => Promise<T>, key?: string): Promise<T> {
    const measured = async () => {
      const start = process.hrtime.bigint();
      try {
        const result = await run();
        this.observe(operation, start);
        return result;
      } catch (error) {
        this.observe(operation, start, error);
        throw error;
      }
    };
    return this.tracer ? inSpan(this.tracer, `storage ${operation}`, SpanKind.CLIENT, this.attributes(operation, key), measured) : measured();
  }

  /** A span under the active one, for operations that outlive the call (streams, iterators); none outside a trace. */
  private childSpan(operation: string, key: string): Span | undefined {
    if (!this.tracer || !hasActiveSpan()) return undefined;
    return this.tracer.startSpan(`storage ${operation}`, { kind: SpanKind.CLIENT, attributes: this.attributes(operation, key) });
  }

  private attributes(operation: string, key?: string): Record<string, string> {
    return { 'ocireg.storage.driver': this.inner.kind, 'ocireg.storage.operation': operation, ...(key !== undefined ? { 'ocireg.storage.key': key } : {}) };
  }

  /** Records the operation's duration (and failure); ends its span, if it has one outside inSpan. */
  private observe(operation: string, start: bigint, error?: unknown, span?: Span): void {
    this.metrics.duration.observe({ operation }, secondsSince(start));
    if (error) this.metrics.errors.inc({ operation });
    if (span) {
      if (error) failSpan(span, error);
      span.end();
    }
  }
}
