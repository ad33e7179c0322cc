import { randomBytes } from 'node:crypto';
import {
  type ExportedSpan,
  OCI_CONFIG,
  OCI_LAYER,
  OCI_MANIFEST,
  type OtlpReceiver,
  type TestRegistry,
  absoluteLocation,
  descriptorOf,
  jsonBlob,
  randomBlob,
  startOtlpReceiver,
  startRegistry,
  withQuery,
} from '@ocireg/testing';

const SERVER = 2;

/** Spans of one trace whose parent is neither in the trace nor the given root: a break in the tree. */
function orphans(spans: ExportedSpan[], root: string): ExportedSpan[] {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => s.parentSpanId !== root && !(s.parentSpanId && ids.has(s.parentSpanId)));
}

describe('traces (distributed)', () => {
  let registry: TestRegistry;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    registry = await startRegistry('distributed', { env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.endpoint } });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    await receiver?.close();
  });

  it('makes one push one connected trace, from the gateway through NATS into the services and down to Postgres, Redis and S3', async () => {
    // A traced client (BuildKit with tracing on, say) sends its push span as the parent of every request of the push.
    const traceId = randomBytes(16).toString('hex');
    const pushSpan = randomBytes(8).toString('hex');
    const headers = { traceparent: `00-${traceId}-${pushSpan}-01` };
    const name = `traced/app-${randomBytes(3).toString('hex')}`;
    const base = registry.url;
    let requests = 0;
    const send = async (url: string, init: RequestInit = {}): Promise<Response> => {
      requests++;
      const response = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
      await response.arrayBuffer().catch(() => undefined);
      return response;
    };

    // The layer: checked (HEAD), then a chunked upload (POST, PATCH, PUT) whose state lives in Redis.
    const layer = randomBlob(64 * 1024);
    expect((await send(`${base}/v2/${name}/blobs/${layer.digest}`, { method: 'HEAD' })).status).toBe(404);
    const started = await send(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    expect(started.status).toBe(202);
    const patched = await send(absoluteLocation(base, started.headers.get('location')), {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${layer.bytes.length - 1}` },
      body: layer.bytes,
    });
    expect(patched.status).toBe(202);
    const finished = await send(withQuery(absoluteLocation(base, patched.headers.get('location')), { digest: layer.digest }), { method: 'PUT' });
    expect(finished.status).toBe(201);
    // The config: a monolithic upload in one request.
    const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const monolithic = await send(`${base}/v2/${name}/blobs/uploads/?digest=${config.digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: config.bytes,
    });
    expect(monolithic.status).toBe(201);
    // The manifest, by tag.
    const manifest = jsonBlob({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf(config, OCI_CONFIG), layers: [descriptorOf(layer, OCI_LAYER)] });
    const put = await send(`${base}/v2/${name}/manifests/v1`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: manifest.bytes });
    expect(put.status).toBe(201);

    const inTrace = (spans: ExportedSpan[]) => spans.filter((s) => s.traceId === traceId);
    // Every request's server span has arrived, with everything under it (spans are exported in batches).
    const spans = inTrace(
      await receiver.waitFor((all) => {
        const mine = inTrace(all);
        const answered = (rpc: ExportedSpan) => mine.some((s) => s.parentSpanId === rpc.spanId && s.name.startsWith('handle '));
        return (
          mine.filter((s) => s.kind === SERVER && s.service === 'ocireg-gateway').length === requests &&
          mine.filter((s) => s.name.startsWith('rpc ')).every(answered) &&
          orphans(mine, pushSpan).length === 0
        );
      }, 20_000),
    );

    // One tree: every span hangs under the client's push span, through spans of the same trace.
    expect(orphans(spans, pushSpan)).toEqual([]);
    const gatewayRequests = spans.filter((s) => s.service === 'ocireg-gateway' && s.kind === SERVER);
    expect(gatewayRequests.map((s) => s.name).sort()).toEqual(['HEAD blob', 'PATCH upload', 'POST uploads', 'POST uploads', 'PUT manifest', 'PUT upload'].sort());
    for (const request of gatewayRequests) expect(request.parentSpanId).toBe(pushSpan);

    // It crosses processes: each service's handling span is the child of the gateway's RPC span.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const handled = spans.filter((s) => s.name.startsWith('handle '));
    expect(new Set(handled.map((s) => s.service))).toEqual(new Set(['ocireg-blob-service', 'ocireg-upload-service', 'ocireg-manifest-service']));
    for (const span of handled) {
      const parent = byId.get(span.parentSpanId ?? '');
      expect(parent?.service).toBe('ocireg-gateway');
      expect(parent?.name).toBe(`rpc ${span.name.slice('handle '.length)}`);
    }

    // And it goes down to the dependencies, each under the span of the process that used it.
    const below = (predicate: (s: ExportedSpan) => boolean) => spans.filter(predicate).map((s) => s.service);
    expect(new Set(below((s) => s.attributes['db.system.name'] === 'postgresql'))).toEqual(new Set(['ocireg-blob-service', 'ocireg-upload-service', 'ocireg-manifest-service']));
    expect(below((s) => s.attributes['db.system.name'] === 'redis')).toContain('ocireg-upload-service');
    expect(spans.find((s) => s.name === 'sessions compareAndSet')).toBeDefined();
    // The gateway streams the bytes in and stores the manifest; the upload service completes and deletes
    // uploads. (The manifest service reads a manifest back only when it is too large to travel with manifest.put.)
    expect(below((s) => s.name.startsWith('storage ') && s.attributes['ocireg.storage.driver'] === 's3')).toEqual(expect.arrayContaining(['ocireg-gateway', 'ocireg-upload-service']));
    expect(spans.filter((s) => s.status?.code === 2)).toEqual([]);
  }, 60_000);

  it('gives a request without trace context a trace of its own, still across processes', async () => {
    const blob = randomBlob(1024);
    const response = await fetch(`${registry.url}/v2/traced/solo/blobs/uploads/?digest=${blob.digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-request-id': 'solo-push' },
      body: blob.bytes,
    });
    expect(response.status).toBe(201);
    const all = await receiver.waitFor((spans) => spans.some((s) => s.attributes['ocireg.request_id'] === 'solo-push' && s.kind === SERVER && s.service === 'ocireg-gateway'));
    const root = all.find((s) => s.attributes['ocireg.request_id'] === 'solo-push' && s.service === 'ocireg-gateway')!;
    expect(root.parentSpanId).toBeUndefined();
    const trace = await receiver.waitFor((spans) => spans.some((s) => s.traceId === root.traceId && s.service === 'ocireg-upload-service' && s.name.startsWith('handle ')));
    const mine = trace.filter((s) => s.traceId === root.traceId);
    expect(orphans(mine, root.spanId).filter((s) => s !== root)).toEqual([]);
    expect(mine.find((s) => s.service === 'ocireg-upload-service' && s.name.startsWith('handle '))?.attributes['ocireg.request_id']).toBe('solo-push');
  }, 30_000);
});

describe('traces (embedded)', () => {
  let registry: TestRegistry;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    registry = await startRegistry('embedded', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint.replace(/\/v1\/traces$/, '') } });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    await receiver?.close();
  });

  it('traces a request through the in-process transport down to the journal metadata and the filesystem', async () => {
    const blob = randomBlob(2048);
    const response = await fetch(`${registry.url}/v2/traced/embedded/blobs/uploads/?digest=${blob.digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-request-id': 'embedded-push' },
      body: blob.bytes,
    });
    expect(response.status).toBe(201);
    const all = await receiver.waitFor((spans) => spans.some((s) => s.attributes['ocireg.request_id'] === 'embedded-push' && s.kind === SERVER && s.name === 'POST uploads'));
    const root = all.find((s) => s.attributes['ocireg.request_id'] === 'embedded-push' && s.name === 'POST uploads')!;
    const mine = all.filter((s) => s.traceId === root.traceId);
    expect(new Set(mine.map((s) => s.service))).toEqual(new Set(['ocireg-registry']));
    expect(orphans(mine, root.spanId).filter((s) => s !== root)).toEqual([]);
    const names = mine.map((s) => s.name);
    // A monolithic POST under a signed upload id: one call, whose mark ending the upload is the session written.
    expect(names).toEqual(expect.arrayContaining(['rpc upload.complete', 'handle upload.complete', 'storage completeAppend', 'sessions create', 'db commitBlob']));
    expect(mine.some((s) => s.attributes['db.system.name'] === 'journal')).toBe(true);
    expect(mine.some((s) => s.attributes['ocireg.storage.driver'] === 'filesystem')).toBe(true);
  }, 30_000);
});
