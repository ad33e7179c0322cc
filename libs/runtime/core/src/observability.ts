import { Logger } from '@nestjs/common';
import type { RegistryConfig } from '@ocireg/config';
import { type Logger as ProcessLogger, OperationsServer, Readiness, RegistryMetrics, type Tracer, Tracing } from '@ocireg/observability';
import { Lifecycle, Started } from './lifecycle';
import { appName, processLogger } from './logging';

/** What a process reports about itself: its metrics, and the checks behind its readiness. */
export interface Observability {
  metrics: RegistryMetrics;
  readiness: Readiness;
  /** The process's JSON logger (also Nest's). */
  logger: ProcessLogger;
  /** Starts the process's spans; undefined when tracing is off (no OTLP endpoint configured). */
  tracer?: Tracer;
  /** Base URL of the operations listener, when REGISTRY_HTTP_DEBUG_ADDR is set. */
  debugUrl?: string;
}

/**
 * Creates the process's metrics and readiness and, when configured, starts the operations listener first (so
 * that it closes last: probes see 503 while the rest drains). SIGTERM marks the process not ready at once.
 */
export async function startObservability(config: RegistryConfig, life: Lifecycle): Promise<Observability> {
  const logger = processLogger(config);
  const metrics = new RegistryMetrics();
  const readiness = new Readiness();
  life.onDrain(() => readiness.markDraining());
  const tracing = startTracing(config);
  // Registered first, so closed last: the spans of the drained requests are exported before exit.
  life.add(() => tracing.shutdown());
  const tracer = tracing.tracer;
  const debug = config.http.debug;
  if (!debug) return { metrics, readiness, logger, tracer };
  const server = new OperationsServer(readiness, metrics);
  const address = await server.listen(debug.port, debug.host).catch((error: Error) => {
    throw new Error(`REGISTRY_HTTP_DEBUG_ADDR: cannot listen on ${debug.host}:${debug.port} (${error.message})`);
  });
  life.add(() => server.close());
  const host = debug.host === '0.0.0.0' || debug.host === '::' ? '127.0.0.1' : debug.host;
  const debugUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  new Logger('operations').log(`operations listener (/healthz, /readyz, /metrics) on ${debugUrl}`);
  return { metrics, readiness, logger, tracer, debugUrl };
}

/** The process's tracing, named after the app it runs (`ocireg-gateway`, `ocireg-registry`, ...) unless OTEL_SERVICE_NAME says. */
function startTracing(config: RegistryConfig): Tracing {
  const { endpoint, sampleRatio, serviceName } = config.tracing;
  if (!endpoint) return Tracing.off();
  const tracing = Tracing.start({ serviceName: serviceName ?? `ocireg-${appName() ?? 'registry'}`, endpoint, sampleRatio });
  new Logger('tracing').log(`exporting traces to ${withoutCredentials(endpoint)}`);
  return tracing;
}

/** Anything with Nest's `unwrap()` (transport clients and servers): over NATS, a PING/PONG round trip. */
export function transportCheck(transport: { unwrap<T>(): T }): () => Promise<void> {
  return () => transport.unwrap<{ flush(): Promise<void> }>().flush();
}

/**
 * Starts a process's parts in a fresh Lifecycle with its observability: not ready until `run` has finished,
 * not ready again from the moment shutdown starts.
 */
export function startProcess(config: RegistryConfig, run: (life: Lifecycle, observability: Observability) => Promise<string | undefined>): Promise<Started> {
  return new Lifecycle().start(async (life) => {
    const observability = await startObservability(config, life);
    const url = await run(life, observability);
    observability.readiness.markReady();
    return url;
  });
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
