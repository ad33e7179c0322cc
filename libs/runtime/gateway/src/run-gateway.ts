import type { RegistryConfig } from '@ocireg/config';
import { RegistryRpcClient } from '@ocireg/contracts';
import { readFile } from 'node:fs/promises';
import { openAccess } from './access';
import { CachingRpc, GatewayTls, createGateway, routeKindOf } from '@ocireg/gateway-feature';
import type { RegistryRpc } from '@ocireg/contracts';
import type { RegistryTransport } from '@ocireg/messaging';
import { Lifecycle, Observability, Started, nestLogger, openContentStore, openTransport, startProcess, transportCheck } from '@ocireg/runtime';
import { instrumentHttp } from './http-metrics';
import { traceHttp } from './http-tracing';
import { logRequests } from './request-log';
import { InstrumentedRpc } from './instrumented-rpc';

/** A key no blob ever has: stat-ing it is the content store's readiness check. */
const PROBE_KEY = 'v1/readiness-probe';

/** Starts the HTTP gateway on a transport; returns its URL. Its closers join `life`. */
export async function startGateway(config: RegistryConfig, transport: RegistryTransport, life: Lifecycle, observability: Observability): Promise<string> {
  const { metrics, readiness, logger, tracer } = observability;
  const store = await openContentStore(config, metrics.storage(), tracer);
  life.add(() => store.close());
  readiness.add('contentStore', () => store.stat(PROBE_KEY));
  const client = transport.createClient();
  const rpcClient = new RegistryRpcClient(client, config.transport.driver === 'nats' ? config.transport.timeoutMs : 30_000);
  await rpcClient.connect();
  life.add(() => rpcClient.close());
  if (transport.kind === 'nats') readiness.add('transport', transportCheck(client));
  const rpc = await withCache(config, new InstrumentedRpc(rpcClient, metrics.rpc(), tracer, transport.kind), transport, life);
  const { access, tokenServer } = await openAccess(config, life);
  const app = await createGateway({ config, rpc, store, access, tokenServer }, nestLogger(config), await readTls(config));
  logRequests(app.getHttpAdapter().getInstance(), logger, routeKindOf);
  if (tracer) traceHttp(app.getHttpAdapter().getInstance(), tracer, routeKindOf);
  instrumentHttp(app.getHttpAdapter().getInstance(), metrics.http(), routeKindOf);
  await app.listen(config.http.port, config.http.host);
  const server = app.getHttpServer();
  life.add(() =>
    drain(() => app.close(), {
      closeIdle: () => server.closeIdleConnections?.(),
      closeAll: () => server.closeAllConnections?.(),
      timeoutMs: config.http.drainTimeoutSeconds * 1000,
    }),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const scheme = config.http.tls ? 'https' : 'http';
  return `${scheme}://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
}

/**
 * The RPC client behind the gateway's metadata cache, when enabled. Over NATS the gateways tell each other
 * what changed on a broadcast; the embedded registry has one gateway and needs none.
 */
async function withCache(config: RegistryConfig, rpc: RegistryRpc, transport: RegistryTransport, life: Lifecycle): Promise<RegistryRpc> {
  if (!config.cache.enabled) return rpc;
  const broadcast = transport.kind === 'nats' ? transport.createBroadcast() : undefined;
  if (broadcast) life.add(() => broadcast.close());
  const cache = new CachingRpc(rpc, { maxEntries: config.cache.maxEntries, ttlMs: config.cache.ttlSeconds * 1000 }, broadcast);
  await cache.start();
  life.add(() => cache.stop());
  return cache;
}

export interface DrainOptions {
  /** Closes keep-alive connections that have no request in flight. */
  closeIdle: () => void;
  /** Closes every connection, in-flight requests included. */
  closeAll: () => void;
  timeoutMs: number;
}

/**
 * Graceful close: `close` stops accepting connections and waits for in-flight requests; meanwhile each
 * connection is closed as soon as its last request is answered (no waiting for keep-alive timeouts), and the
 * requests still running after the drain timeout have their connections cut.
 */
export async function drain(close: () => Promise<unknown>, { closeIdle, closeAll, timeoutMs }: DrainOptions): Promise<void> {
  const idle = setInterval(closeIdle, 100);
  const cut = setTimeout(closeAll, timeoutMs);
  try {
    await close();
  } finally {
    clearInterval(idle);
    clearTimeout(cut);
  }
}

/** Reads the TLS files named in the config, failing start-up with a message that names the bad one. */
async function readTls(config: RegistryConfig): Promise<GatewayTls | undefined> {
  const tls = config.http.tls;
  if (!tls) return undefined;
  return {
    key: await readPem(tls.key, 'REGISTRY_HTTP_TLS_KEY'),
    cert: await readPem(tls.certificate, 'REGISTRY_HTTP_TLS_CERTIFICATE'),
    clientCas: await Promise.all(tls.clientCas.map((path) => readPem(path, 'REGISTRY_HTTP_TLS_CLIENTCAS'))),
  };
}

/** A PEM file's contents; an unreadable file is a start-up error naming the setting. */
export async function readPem(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The gateway as its own process (distributed mode). */
export function runGateway(config: RegistryConfig): Promise<Started> {
  return startProcess(config, (life, observability) => startGateway(config, openTransport(config), life, observability));
}
