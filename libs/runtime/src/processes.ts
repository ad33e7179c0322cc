import { INestApplicationContext, INestMicroservice, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { RegistryConfig } from '@ocireg/config';
import { RegistryRpcClient } from '@ocireg/contracts';
import type { RegistryTransport } from '@ocireg/messaging';
import type { Metadata } from '@ocireg/metadata';
import { BLOB_SERVICE_QUEUE, BlobServiceModule } from '@ocireg/blob-feature';
import { createGateway } from '@ocireg/gateway-feature';
import { MANIFEST_SERVICE_QUEUE, ManifestServiceModule } from '@ocireg/manifest-feature';
import { UPLOAD_SERVICE_QUEUE, UploadServiceModule } from '@ocireg/upload-feature';
import { openContentStore, openMetadata, openTransport, openUploadSessions } from './adapters';

export type ServiceName = 'blob-service' | 'manifest-service' | 'upload-service';

/** Something started that must be stopped on shutdown, in reverse order. */
export type Closer = () => Promise<unknown>;

export interface Started {
  close(): Promise<void>;
  /** The gateway's listening address, when this process serves HTTP. */
  url?: string;
}

export function logLevels(config: RegistryConfig): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const last = { error: 1, warn: 2, info: 3, debug: 5 }[config.log.level];
  return order.slice(0, last + 1);
}

class Lifecycle {
  private readonly closers: Closer[] = [];

  add(closer: Closer): void {
    this.closers.push(closer);
  }

  async close(): Promise<void> {
    for (const closer of this.closers.reverse()) await closer().catch(() => undefined);
    this.closers.length = 0;
  }
}

async function startService(
  name: ServiceName,
  config: RegistryConfig,
  transport: RegistryTransport,
  deps: Omit<Parameters<typeof UploadServiceModule.register>[0], 'config'>,
): Promise<INestMicroservice> {
  const module =
    name === 'blob-service'
      ? BlobServiceModule.register({ metadata: deps.metadata })
      : name === 'manifest-service'
        ? ManifestServiceModule.register({ metadata: deps.metadata })
        : UploadServiceModule.register({ ...deps, config });
  const queue = { 'blob-service': BLOB_SERVICE_QUEUE, 'manifest-service': MANIFEST_SERVICE_QUEUE, 'upload-service': UPLOAD_SERVICE_QUEUE }[name];
  const app = await NestFactory.createMicroservice(module, { strategy: transport.createServer(queue), logger: logLevels(config) });
  await app.listen();
  return app;
}

async function openServiceDeps(config: RegistryConfig, life: Lifecycle, needs: { sessions: boolean; store: boolean }) {
  const { metadata, sql } = await openMetadata(config);
  life.add(() => sql.close());
  const store = needs.store ? await openContentStore(config) : undefined;
  if (store) life.add(() => store.close());
  const sessions = needs.sessions ? await openUploadSessions(config) : undefined;
  if (sessions) life.add(() => sessions.close());
  return { metadata, store, sessions };
}

/** One service as its own process (distributed mode). */
export async function runService(name: ServiceName, config: RegistryConfig): Promise<Started> {
  const life = new Lifecycle();
  try {
    const isUpload = name === 'upload-service';
    const { metadata, store, sessions } = await openServiceDeps(config, life, { sessions: isUpload, store: isUpload });
    const transport = openTransport(config);
    const app = await startService(name, config, transport, { metadata, store: store!, sessions: sessions! });
    life.add(() => app.close());
    return { close: () => life.close() };
  } catch (error) {
    await life.close();
    throw error;
  }
}

async function startGateway(config: RegistryConfig, transport: RegistryTransport, life: Lifecycle): Promise<string> {
  const store = await openContentStore(config);
  life.add(() => store.close());
  const rpc = new RegistryRpcClient(transport.createClient(), config.transport.driver === 'nats' ? config.transport.timeoutMs : 30_000);
  await rpc.connect();
  life.add(() => rpc.close());
  const app = await createGateway({ config, rpc, store }, logLevels(config));
  app.enableShutdownHooks([]);
  await app.listen(config.http.port, config.http.host);
  life.add(() => app.close());
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  return `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
}

/** The gateway as its own process (distributed mode). */
export async function runGateway(config: RegistryConfig): Promise<Started> {
  const life = new Lifecycle();
  try {
    const url = await startGateway(config, openTransport(config), life);
    return { url, close: () => life.close() };
  } catch (error) {
    await life.close();
    throw error;
  }
}

/** Everything in one process: the three services and the gateway over one in-process (or configured) transport. */
export async function runEmbedded(config: RegistryConfig): Promise<Started> {
  const life = new Lifecycle();
  try {
    const { metadata, store, sessions } = await openServiceDeps(config, life, { sessions: true, store: true });
    const transport = openTransport(config);
    for (const name of ['blob-service', 'manifest-service', 'upload-service'] as const) {
      const app: INestApplicationContext = await startService(name, config, transport, { metadata: metadata as Metadata, store: store!, sessions: sessions! });
      life.add(() => app.close());
    }
    const url = await startGateway(config, transport, life);
    return { url, close: () => life.close() };
  } catch (error) {
    await life.close();
    throw error;
  }
}
