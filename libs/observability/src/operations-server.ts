import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RegistryMetrics } from './metrics';

/** A readiness check: resolves when the dependency answers, rejects (or times out) when it does not. */
export type ReadinessCheck = () => Promise<unknown>;

export type ReadinessState = 'starting' | 'ready' | 'draining';

export interface ReadinessReport {
  ready: boolean;
  status: ReadinessState;
  /** Each check's outcome: "ok" or what went wrong. */
  checks: Record<string, string>;
}

/**
 * Whether a process should receive work: not while it starts, not once SIGTERM started draining it, and
 * otherwise only when every dependency check passes (each within `timeoutMs`, all at once).
 */
export class Readiness {
  private state: ReadinessState = 'starting';
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor(private readonly timeoutMs = 2_000) {}

  /** Adds a dependency check under a name (a second check under the same name replaces the first). */
  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  markReady(): void {
    if (this.state === 'starting') this.state = 'ready';
  }

  markDraining(): void {
    this.state = 'draining';
  }

  get status(): ReadinessState {
    return this.state;
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all([...this.checks].map(async ([name, check]) => [name, await this.run(check)] as const));
    const checks = Object.fromEntries(entries);
    const ready = this.state === 'ready' && entries.every(([, outcome]) => outcome === 'ok');
    return { ready, status: this.state, checks };
  }

  private async run(check: ReadinessCheck): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
    });
    try {
      return await Promise.race([
        Promise.resolve()
          .then(check)
          .then(
            () => 'ok',
            (error: unknown) => (error instanceof Error ? error.message || error.name : String(error)) || 'failed',
          ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The operations listener, apart from the registry's own HTTP server: GET /healthz (alive while the event
 * loop turns), GET /readyz (200 or 503 with a JSON report naming what failed), GET /metrics (Prometheus).
 */
export class OperationsServer {
  private readonly server: Server;

  constructor(
    private readonly readiness: Readiness,
    private readonly metrics: RegistryMetrics,
  ) {
    this.server = createServer((request, response) => void this.handle(request, response));
    // Probes and scrapes are short: never let an idle keep-alive connection hold up shutdown.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens; resolves with the address (port 0 picks a free one). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    try {
      switch (path) {
        case '/healthz':
          return send(response, 200, 'text/plain; charset=utf-8', 'ok\n');
        case '/readyz': {
          const report = await this.readiness.report();
          return send(response, report.ready ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(report)}\n`);
        }
        case '/metrics':
          return send(response, 200, this.metrics.contentType, await this.metrics.text());
        default:
          return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
      }
    } catch (error) {
      return send(response, 500, 'text/plain; charset=utf-8', `${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
