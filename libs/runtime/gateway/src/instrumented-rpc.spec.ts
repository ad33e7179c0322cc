import type { RegistryRpc } from '@ocireg/contracts';
import { RegistryError } from '@ocireg/errors';
import { RegistryMetrics } from '@ocireg/observability';
import { InstrumentedRpc } from './instrumented-rpc';

describe('InstrumentedRpc', () => {
  it('counts and times each call by subject, and failures by subject and code', async () => {
    const metrics = new RegistryMetrics(false);
    const calls: string[] = [];
    const inner: RegistryRpc = {
      call: (async (subject: string) => {
        calls.push(subject);
        if (subject === 'blob.resolve') throw new RegistryError('BLOB_UNKNOWN');
        return { repositories: [] };
      }) as RegistryRpc['call'],
    };
    const rpc = new InstrumentedRpc(inner, metrics.rpc());
    await expect(rpc.call('catalog.list', { n: 10 } as never)).resolves.toEqual({ repositories: [] });
    await expect(rpc.call('blob.resolve', { repository: 'a', digest: 'sha256:00' } as never)).rejects.toBeInstanceOf(RegistryError);
    expect(calls).toEqual(['catalog.list', 'blob.resolve']);
    const text = await metrics.text();
    expect(text).toContain('ocireg_rpc_requests_total{subject="catalog.list"} 1');
    expect(text).toContain('ocireg_rpc_requests_total{subject="blob.resolve"} 1');
    expect(text).toContain('ocireg_rpc_errors_total{subject="blob.resolve",code="BLOB_UNKNOWN"} 1');
    expect(text).toContain('ocireg_rpc_request_duration_seconds_count{subject="catalog.list"} 1');
  });
});
