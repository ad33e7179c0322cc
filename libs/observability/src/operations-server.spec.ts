import { Counter } from 'prom-client';
import { RegistryMetrics } from './metrics';
import { OperationsServer, Readiness } from './operations-server';

async function get(base: string, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

describe('OperationsServer', () => {
  let server: OperationsServer;
  let readiness: Readiness;
  let metrics: RegistryMetrics;
  let base: string;

  beforeEach(async () => {
    readiness = new Readiness(200);
    metrics = new RegistryMetrics();
    server = new OperationsServer(readiness, metrics);
    const address = await server.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${address.port}`;
  });

  afterEach(() => server.close());

  it('answers /healthz while the process runs', async () => {
    expect(await get(base, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await get(base, '/nope')).status).toBe(404);
  });

  it('is not ready while starting, ready once started with every check passing', async () => {
    readiness.add('database', async () => undefined);
    const starting = await get(base, '/readyz');
    expect(starting.status).toBe(503);
    expect(JSON.parse(starting.body)).toMatchObject({ ready: false, status: 'starting' });
    readiness.markReady();
    const ready = await get(base, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, status: 'ready', checks: { database: 'ok' } });
  });

  it('answers 503 naming the dependency that failed or did not answer in time', async () => {
    readiness.add('database', async () => undefined);
    readiness.add('contentStore', async () => {
      throw new Error('connect ECONNREFUSED');
    });
    readiness.add('sessions', () => new Promise(() => undefined));
    readiness.markReady();
    const answer = await get(base, '/readyz');
    expect(answer.status).toBe(503);
    expect(answer.type).toContain('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      ready: false,
      status: 'ready',
      checks: { database: 'ok', contentStore: 'connect ECONNREFUSED', sessions: 'no answer within 200 ms' },
    });
  });

  it('answers 503 from the moment draining starts, while still alive', async () => {
    readiness.markReady();
    expect((await get(base, '/readyz')).status).toBe(200);
    readiness.markDraining();
    const answer = await get(base, '/readyz');
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'draining' });
    expect((await get(base, '/healthz')).status).toBe(200);
  });

  it('serves the process registry in the Prometheus text format', async () => {
    metrics.http().requests.inc({ kind: 'blob', method: 'GET', status: '200' });
    const answer = await get(base, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.type).toContain('text/plain');
    expect(answer.body).toContain('ocireg_http_requests_total{kind="blob",method="GET",status="200"} 1');
    expect(answer.body).toContain('process_cpu_user_seconds_total');
    expect(answer.body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('keeps each process registry apart (several in one process)', async () => {
    const other = new RegistryMetrics(false);
    other.http().requests.inc({ kind: 'base', method: 'GET', status: '200' });
    expect(await other.text()).toContain('ocireg_http_requests_total');
    expect(await metrics.text()).not.toContain('ocireg_http_requests_total{kind="base"');
    expect(other.registry.getSingleMetric('ocireg_http_requests_total')).toBeInstanceOf(Counter);
  });

  it('reads pool gauges at scrape time', async () => {
    let waiting = 0;
    metrics.databasePool(() => ({ total: 5, idle: 2, waiting }));
    waiting = 3;
    const text = await metrics.text();
    expect(text).toContain('ocireg_db_pool_connections{state="total"} 5');
    expect(text).toContain('ocireg_db_pool_connections{state="waiting"} 3');
  });
});
