import { request as httpRequest } from 'node:http';
import { RunMode, TestRegistry, makeImage, pushImage, randomBlob, startRegistry } from '@ocireg/testing';

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/** The value of one sample in a Prometheus text exposition (0 when absent). */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = metrics
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

function exited(registry: TestRegistry, name: string): Promise<number | null> {
  const proc = registry.processes.find((p) => p.name === name);
  if (!proc) throw new Error(`no process ${name}`);
  if (proc.child.exitCode !== null) return Promise.resolve(proc.child.exitCode);
  return new Promise((resolve) => proc.child.once('exit', (code) => resolve(code)));
}

describe.each<RunMode>(['embedded', 'distributed'])('the operations listener (%s)', (mode) => {
  let registry: TestRegistry;
  const gatewayName = mode === 'embedded' ? 'registry' : 'gateway-0';

  beforeAll(async () => {
    registry = await startRegistry(mode);
  }, 120_000);
  afterAll(async () => registry?.stop());

  it('serves /healthz, /readyz and /metrics on every process, counting a push', async () => {
    const names = Object.keys(registry.debugUrls).sort();
    expect(names).toEqual(mode === 'embedded' ? ['registry'] : ['blob-service', 'gateway-0', 'manifest-service', 'upload-service']);
    await pushImage(registry.url, 'ops/app', makeImage({ layers: 2, layerSize: 10_000 }), 'v1');
    expect((await fetch(`${registry.url}/v2/ops/app/manifests/v1`)).status).toBe(200);

    for (const [name, base] of Object.entries(registry.debugUrls)) {
      expect((await get(`${base}/healthz`)).status).toBe(200);
      const ready = await get(`${base}/readyz`);
      expect({ name, status: ready.status }).toEqual({ name, status: 200 });
      const report = JSON.parse(ready.body) as { ready: boolean; checks: Record<string, string> };
      expect(report.ready).toBe(true);
      const expectedChecks: Record<string, string[]> = {
        registry: ['contentStore', 'database', 'sessions'],
        'gateway-0': ['contentStore', 'transport'],
        'blob-service': ['database', 'transport:blob-service'],
        'manifest-service': ['contentStore', 'database', 'transport:manifest-service'],
        'upload-service': ['contentStore', 'database', 'sessions', 'transport:upload-service'],
      };
      expect(Object.keys(report.checks).sort()).toEqual(expectedChecks[name]);

      const metrics = (await get(`${base}/metrics`)).body;
      expect(metrics).toContain('process_cpu_user_seconds_total');
      expect(metrics).toContain('nodejs_eventloop_lag_seconds');
      if (name === 'registry' || name === 'gateway-0') {
        expect(sample(metrics, 'ocireg_http_requests_total', { kind: 'manifest', method: 'PUT', status: '201' })).toBe(1);
        expect(sample(metrics, 'ocireg_http_requests_total', { kind: 'uploads', method: 'POST', status: '201' })).toBe(3);
        expect(sample(metrics, 'ocireg_http_request_duration_seconds_count', { kind: 'uploads', method: 'POST' })).toBe(3);
        expect(sample(metrics, 'ocireg_http_request_bytes_total', { kind: 'uploads' })).toBeGreaterThanOrEqual(20_000);
        expect(sample(metrics, 'ocireg_http_response_bytes_total', { kind: 'manifest' })).toBeGreaterThan(0);
        expect(sample(metrics, 'ocireg_uploads_in_progress')).toBe(0);
        // Each blob in one POST under an id the gateway signed: one call (upload.complete), none to start it.
        expect(sample(metrics, 'ocireg_rpc_requests_total', { subject: 'upload.complete' })).toBe(3);
        expect(sample(metrics, 'ocireg_rpc_request_duration_seconds_count', { subject: 'upload.complete' })).toBe(3);
        expect(metrics).not.toMatch(/ocireg_rpc_requests_total\{[^}]*subject="upload\.start"[^}]*\} [1-9]/);
        expect(sample(metrics, 'ocireg_storage_operation_duration_seconds_count', { operation: 'completeAppend' })).toBe(3);
      }
      if (name !== 'gateway-0') {
        expect(metrics).toMatch(/ocireg_messages_handled_total\{subject="[a-z.]+",outcome="[A-Za-z_]+"\} [1-9]/);
        // The SQL adapters time statements (a write of a push is one call, labelled by its Metadata method);
        // the embedded journal store times the Metadata methods.
        const operations = mode === 'embedded' ? 'commitBlob|putManifest' : 'select|insert|transaction|commitBlob|putManifest';
        expect(metrics).toMatch(new RegExp(`ocireg_db_query_duration_seconds_count\\{operation="(${operations})"\\} [1-9]`));
      }
      if (name === 'upload-service' || name === 'registry') {
        expect(sample(metrics, 'ocireg_messages_handled_total', { subject: 'upload.complete', outcome: 'ok' })).toBe(3);
      }
      if (mode === 'distributed' && name !== 'gateway-0') {
        expect(metrics).toContain('ocireg_db_pool_connections{state="total"}');
      }
    }
  }, 60_000);

  it('on SIGTERM stops being ready at once, and lets an upload in flight finish', async () => {
    // 6 MiB: a body hashed on the gateway's hashing thread, which must outlive the requests it serves.
    const blob = randomBlob(6 * 1024 * 1024);
    const start = await fetch(`${registry.url}/v2/ops/drain/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get('location') ?? '', registry.url);
    // A PATCH whose body is sent in two halves, with the SIGTERM in between.
    let answered: (status: number) => void = () => undefined;
    const status = new Promise<number>((resolve) => (answered = resolve));
    const patch = httpRequest(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-length': blob.size, 'content-range': `0-${blob.size - 1}` },
    });
    patch.on('response', (response) => {
      response.resume();
      answered(response.statusCode ?? 0);
    });
    patch.on('error', () => answered(-1));
    const half = blob.size / 2;
    patch.write(blob.bytes.subarray(0, half));
    const debug = registry.debugUrls[gatewayName] ?? '';
    // The upload is in the gateway: its gauge says so.
    for (let i = 0; i < 50 && sample((await get(`${debug}/metrics`)).body, 'ocireg_uploads_in_progress') !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(sample((await get(`${debug}/metrics`)).body, 'ocireg_uploads_in_progress')).toBe(1);

    const proc = registry.processes.find((p) => p.name === gatewayName);
    const exit = exited(registry, gatewayName);
    proc?.child.kill('SIGTERM');
    let readyz = await get(`${debug}/readyz`);
    for (let i = 0; i < 20 && readyz.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      readyz = await get(`${debug}/readyz`);
    }
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.body)).toMatchObject({ ready: false, status: 'draining' });
    expect((await get(`${debug}/healthz`)).status).toBe(200);
    // New connections to the registry's port are refused while the upload drains.
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();

    patch.end(blob.bytes.subarray(half));
    expect(await status).toBe(202);
    expect(await exit).toBe(0);
  }, 60_000);
});
