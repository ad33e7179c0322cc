import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalMetadata } from '@ocireg/metadata-journal';
import { RegistryMetrics } from '@ocireg/observability';
import { memoryTracer } from '@ocireg/testing';
import { InstrumentedMetadata } from './instrumented-metadata';

describe('InstrumentedMetadata', () => {
  let directory = '';
  let store: JournalMetadata | undefined;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ocireg-instrumented-'));
    store = await JournalMetadata.open({ directory });
  });

  afterEach(async () => {
    await store?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('times every call by method, counts failures, and makes each a db span inside a trace', async () => {
    const { tracer, spans, reset } = memoryTracer();
    reset();
    const metrics = new RegistryMetrics(false);
    const metadata = new InstrumentedMetadata(store as JournalMetadata, metrics.database(), tracer);
    const blob = { digest: `sha256:${'a'.repeat(64)}`, size: 3, storageKey: 'blobs/a' };
    await tracer.startActiveSpan('parent', async (parent) => {
      await metadata.blobs.commitBlob('library/a', blob);
      expect(await metadata.blobs.findLinkedBlob('library/a', blob.digest)).toEqual(blob);
      await expect(metadata.blobs.commitBlob('library/b', { ...blob, digest: `sha256:${'b'.repeat(64)}` })).rejects.toThrow(/storage key/);
      expect(await metadata.repositories.listRepositories({})).toEqual(['library/a']);
      parent.end();
    });
    const text = await metrics.text();
    expect(text).toContain('ocireg_db_query_duration_seconds_count{operation="commitBlob"} 2');
    expect(text).toContain('ocireg_db_query_duration_seconds_count{operation="findLinkedBlob"} 1');
    expect(text).toContain('ocireg_db_errors_total{operation="commitBlob"} 1');
    const names = spans().map((span) => span.name);
    expect(names).toEqual(['db commitBlob', 'db findLinkedBlob', 'db commitBlob', 'db listRepositories', 'parent']);
    expect(spans()[0]).toMatchObject({ kind: 2, attributes: { 'db.system.name': 'journal', 'db.operation.name': 'commitBlob' } });
  });
});
