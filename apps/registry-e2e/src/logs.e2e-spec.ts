import { createHash, randomBytes } from 'node:crypto';
import { RegistryProcess, RunMode, TestRegistry, startRegistry } from '@ocireg/testing';

type Line = Record<string, unknown>;

/** The JSON lines of a process's output (anything else, e.g. a stack trace, is skipped). */
function jsonLines(proc: RegistryProcess): Line[] {
  return proc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Line];
      } catch {
        return [];
      }
    });
}

async function eventually<T>(find: () => T | undefined, what: () => string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not found: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each<RunMode>(['distributed', 'embedded'])('structured logs (%s)', (mode) => {
  let registry: TestRegistry;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const token = `tok-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    registry = await startRegistry(mode, { env: { REGISTRY_LOG_LEVEL: 'debug' } });
  }, 120_000);
  afterAll(async () => registry?.stop());

  const gateway = () => registry.processes.find((p) => p.name === (mode === 'embedded' ? 'registry' : 'gateway-0'))!;
  const all = () => registry.processes.map((p) => `--- ${p.name}\n${p.output()}`).join('\n');

  it('follows a request id from the gateway into the services, with one access line and no secrets', async () => {
    const requestId = `e2e-${randomBytes(6).toString('hex')}`;
    const response = await fetch(`${registry.url}/v2/logs/app/blobs/uploads/?password=${password}`, {
      method: 'POST',
      headers: { 'x-request-id': requestId, authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    await response.arrayBuffer();

    const access = await eventually(
      () => jsonLines(gateway()).find((l) => l['msg'] === 'request' && l['requestId'] === requestId),
      () => `access line for ${requestId} in\n${gateway().output()}`,
    );
    expect(access).toMatchObject({ level: 30, method: 'POST', kind: 'uploads', path: '/v2/logs/app/blobs/uploads/', status: 202 });
    expect(typeof access['durationMs']).toBe('number');
    expect(access['remoteAddress']).toBeDefined();

    // The POST itself may ask no service (the gateway signs the upload's id); the upload's status does.
    const statusId = `e2e-${randomBytes(6).toString('hex')}`;
    const status = await fetch(`${registry.url}${response.headers.get('location')}?password=${password}`, {
      headers: { 'x-request-id': statusId, authorization: `Bearer ${token}` },
    });
    expect(status.status).toBe(204);
    const services = mode === 'embedded' ? [gateway()] : registry.processes.filter((p) => p.name.endsWith('-service'));
    const handled = await eventually(
      () => services.flatMap((p) => jsonLines(p).map((l): Line => ({ ...l, process: p.name }))).find((l) => l['msg'] === 'message handled' && l['requestId'] === statusId),
      () => `a service line for ${statusId} in\n${all()}`,
    );
    expect(handled).toMatchObject({ subject: 'upload.status', outcome: 'ok', process: mode === 'embedded' ? 'registry' : 'upload-service' });

    // A fresh id when the client sends none (or a bad one).
    const other = await fetch(`${registry.url}/v2/`, { headers: { 'x-request-id': 'not a sane id' } });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    // Nest's own messages are JSON lines too.
    expect(jsonLines(gateway()).some((l) => typeof l['context'] === 'string')).toBe(true);

    for (const proc of registry.processes) {
      expect({ name: proc.name, password: proc.output().includes(password) }).toEqual({ name: proc.name, password: false });
      expect({ name: proc.name, token: proc.output().includes(token) }).toEqual({ name: proc.name, token: false });
    }
  }, 60_000);

  it('counts the bytes of a blob pull sent straight from the store in its access line', async () => {
    const blob = randomBytes(3 * 1024 * 1024 + 5);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const pushed = await fetch(`${registry.url}/v2/logs/pull/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob });
    expect(pushed.status).toBe(201);
    const requestId = `e2e-${randomBytes(6).toString('hex')}`;
    const pulled = await fetch(`${registry.url}/v2/logs/pull/blobs/${digest}`, { headers: { 'x-request-id': requestId } });
    expect(pulled.status).toBe(200);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(blob)).toBe(true);
    const access = await eventually(
      () => jsonLines(gateway()).find((l) => l['msg'] === 'request' && l['requestId'] === requestId),
      () => `access line for ${requestId} in\n${gateway().output()}`,
    );
    expect(access).toMatchObject({ method: 'GET', kind: 'blob', status: 200, bytesOut: blob.length });
  }, 60_000);
});
