import { SpanKind, type Tracer, inSpan } from '@ocireg/observability';
import type { UploadSession, UploadSessionStore } from '@ocireg/sessions';

/**
 * An upload-session store decorator that makes each operation a client span (`sessions <operation>`, with
 * `db.system.name` redis or file and the upload id), so that a trace shows the session reads and writes of
 * every upload request.
 */
export class TracedUploadSessionStore implements UploadSessionStore {
  constructor(
    private readonly inner: UploadSessionStore,
    private readonly tracer: Tracer,
    /** `redis` or `file`. */
    private readonly system: string,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  create(session: UploadSession, ttlSeconds: number): Promise<boolean> {
    return this.traced('create', session.id, () => this.inner.create(session, ttlSeconds));
  }

  get(id: string): Promise<UploadSession | undefined> {
    return this.traced('get', id, () => this.inner.get(id));
  }

  compareAndSet(id: string, expectedVersion: number, next: UploadSession, ttlSeconds: number): Promise<boolean> {
    return this.traced('compareAndSet', id, () => this.inner.compareAndSet(id, expectedVersion, next, ttlSeconds));
  }

  delete(id: string): Promise<boolean> {
    return this.traced('delete', id, () => this.inner.delete(id));
  }

  private traced<T>(operation: string, id: string, run: () => Promise<T>): Promise<T> {
    return inSpan(this.tracer, `sessions ${operation}`, SpanKind.CLIENT, { 'db.system.name': this.system, 'db.operation.name': operation, 'ocireg.upload.id': id }, run);
  }
}
