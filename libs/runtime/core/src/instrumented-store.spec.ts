import { Readable } from 'node:stream';
import { RegistryMetrics } from '@ocireg/observability';
import type { ContentStore } from '@ocireg/storage';
import { InstrumentedContentStore } from './instrumented-store';

function fakeStore(): ContentStore {
  return {
    kind: 'filesystem',
    init: jest.fn(async () => undefined),
    close: jest.fn(async () => undefined),
    stat: jest.fn(async (key: string) => ({ key, size: 3 })),
    read: jest.fn(async () => Readable.from([Buffer.from('abc')])),
    write: jest.fn(async (key: string) => ({ key, size: 3 })),
    delete: jest.fn(async () => {
      throw new Error('denied');
    }),
    list: async function* () {
      yield 'a';
      yield 'b';
    },
    startAppend: jest.fn(async () => ({ size: 0 })),
    append: jest.fn(async () => ({ size: 3 })),
    completeAppend: jest.fn(async (key: string) => ({ key, size: 3 })),
    abortAppend: jest.fn(async () => undefined),
    purgeUnfinished: jest.fn(async () => 2),
  };
}

async function countOf(metrics: RegistryMetrics, name: string, operation: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => v.labels['operation'] === operation && (name.endsWith('_total') || (v as { metricName?: string }).metricName?.endsWith('_count')));
  return sample?.value ?? 0;
}

describe('InstrumentedContentStore', () => {
  it('times every operation by name, passes results through, and counts failures', async () => {
    const metrics = new RegistryMetrics(false);
    const inner = fakeStore();
    const store = new InstrumentedContentStore(inner, metrics.storage());
    expect(store.kind).toBe('filesystem');
    expect(await store.stat('k')).toEqual({ key: 'k', size: 3 });
    expect(await store.write('k', Readable.from([]))).toEqual({ key: 'k', size: 3 });
    expect(await store.startAppend('k')).toEqual({ size: 0 });
    expect(await store.append('k', { size: 0 }, Readable.from([]))).toEqual({ size: 3 });
    expect(await store.completeAppend('k', { size: 3 })).toEqual({ key: 'k', size: 3 });
    await store.abortAppend('k', { size: 3 });
    expect(await store.purgeUnfinished(new Date())).toBe(2);
    await expect(store.delete('k')).rejects.toThrow('denied');
    const keys: string[] = [];
    for await (const key of store.list('')) keys.push(key);
    expect(keys).toEqual(['a', 'b']);
    for (const operation of ['stat', 'write', 'startAppend', 'append', 'completeAppend', 'abortAppend', 'purgeUnfinished', 'delete', 'list']) {
      expect(await countOf(metrics, 'ocireg_storage_operation_duration_seconds', operation)).toBe(1);
    }
    expect(await countOf(metrics, 'ocireg_storage_errors_total', 'delete')).toBe(1);
    expect(await countOf(metrics, 'ocireg_storage_errors_total', 'stat')).toBe(0);
    expect(inner.append).toHaveBeenCalledWith('k', { size: 0 }, expect.any(Readable));
  });

  it('times a read until its stream ends, without consuming it', async () => {
    const metrics = new RegistryMetrics(false);
    const store = new InstrumentedContentStore(fakeStore(), metrics.storage());
    const stream = await store.read('k');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await countOf(metrics, 'ocireg_storage_operation_duration_seconds', 'read')).toBe(0);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(chunks).toString()).toBe('abc');
    expect(await countOf(metrics, 'ocireg_storage_operation_duration_seconds', 'read')).toBe(1);
  });
});
