import { mkdir } from 'node:fs/promises';
import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { RegistryConfig } from '@ocireg/config';
import { BLOB_SERVICE_QUEUE, BlobServiceModule } from '@ocireg/blob-feature';
import { MANIFEST_SERVICE_QUEUE, ManifestServiceModule } from '@ocireg/manifest-feature';
import type { RegistryTransport } from '@ocireg/messaging';
import { Metadata, SqlClient, createMetadata, migrate, migrations } from '@ocireg/metadata';
import { PgSqlClient, ensureDatabase } from '@ocireg/metadata-pg';
import { JournalMetadata } from '@ocireg/metadata-journal';
import { PgliteSqlClient } from '@ocireg/metadata-pglite';
import type { RegistryMetrics, Tracer } from '@ocireg/observability';
import { Lifecycle, Observability, Started, nestLogger, openContentStore, openTransport, startProcess, transportCheck } from '@ocireg/runtime';
import type { UploadSessionStore } from '@ocireg/sessions';
import { FileUploadSessionStore } from '@ocireg/sessions-file';
import { RedisUploadSessionStore } from '@ocireg/sessions-redis';
import type { ContentStore } from '@ocireg/storage';
import { UPLOAD_SERVICE_QUEUE, UploadServiceModule } from '@ocireg/upload-feature';
import { TracedUploadSessionStore } from './instrumented-sessions';
import { InstrumentedMetadata } from './instrumented-metadata';
import { InstrumentedSqlClient } from './instrumented-sql';
import { MessageHandlingInterceptor } from './message-handling.interceptor';

/** Keys no blob, manifest or upload ever has: reading them is the readiness check of their store. */
const PROBE_KEY = 'v1/readiness-probe';
const PROBE_UPLOAD_ID = '00000000-0000-4000-8000-000000000000';

export type ServiceName = 'blob-service' | 'manifest-service' | 'upload-service';
export const SERVICE_NAMES: readonly ServiceName[] = ['blob-service', 'manifest-service', 'upload-service'];

type SqlDatabaseConfig = Exclude<RegistryConfig['database'], { driver: 'journal' }>;

/** Opens a SQL metadata database and applies pending migrations (the same runner everywhere). */
async function openSql(database: SqlDatabaseConfig): Promise<SqlClient> {
  let sql: SqlClient;
  if (database.driver === 'pglite') {
    await mkdir(database.dataDir, { recursive: true });
    sql = await PgliteSqlClient.open({ dataDir: database.dataDir });
  } else {
    await ensureDatabase(database.url);
    sql = new PgSqlClient({ connectionString: database.url, max: database.poolMax, preparedStatements: database.preparedStatements });
  }
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close();
    throw error;
  }
  return sql;
}

/**
 * Opens the metadata database, applies pending migrations, closes it; returns how many migrations exist (none
 * for the journal store, which has no schema: opening it recovers its files).
 */
export async function migrateDatabase(config: RegistryConfig): Promise<number> {
  const database = config.database;
  if (database.driver === 'journal') {
    await (await JournalMetadata.open({ directory: database.directory })).close();
    return 0;
  }
  const sql = await openSql(database);
  await sql.close();
  return migrations.length;
}

/** The services' metadata, instrumented (metrics, `db` spans), with its closer and readiness check. */
interface OpenedMetadata {
  metadata: Metadata;
  close: () => Promise<void>;
  check: () => Promise<unknown>;
}

async function openMetadata(config: RegistryConfig, { metrics, tracer, logger }: Observability): Promise<OpenedMetadata> {
  const database = config.database;
  if (database.driver === 'journal') {
    const journal = await JournalMetadata.open({ directory: database.directory });
    if (journal.droppedBytes > 0) {
      logger.warn({ directory: database.directory, droppedBytes: journal.droppedBytes }, 'metadata journal: dropped a torn or corrupt last record (left by a crash during a write; it was never acknowledged)');
    }
    return {
      metadata: new InstrumentedMetadata(journal, metrics.database(), tracer, 'journal'),
      close: () => journal.close(),
      // Not ready once a write or sync failed (the process must restart) or the store closed.
      check: async () => journal.check(),
    };
  }
  const sql = instrumentSql(await openSql(database), metrics, tracer);
  return { metadata: createMetadata(sql), close: () => sql.close(), check: () => sql.query('SELECT 1') };
}

async function openUploadSessions(config: RegistryConfig, tracer?: Tracer): Promise<UploadSessionStore> {
  const sessions = config.sessions;
  const store: UploadSessionStore =
    sessions.driver === 'file'
      ? new FileUploadSessionStore({ directory: sessions.directory })
      : new RedisUploadSessionStore({ url: sessions.url, keyPrefix: `${sessions.keyPrefix}upload:` });
  await store.init();
  return tracer ? new TracedUploadSessionStore(store, tracer, sessions.driver) : store;
}

interface ServiceDeps {
  metadata: Metadata;
  store?: ContentStore;
  sessions?: UploadSessionStore;
}

/** The metadata database wrapped in its metrics (and tracing) decorator; a pg pool's use is read at each scrape. */
function instrumentSql(sql: SqlClient, metrics: RegistryMetrics, tracer?: Tracer): SqlClient {
  if (sql instanceof PgSqlClient) metrics.databasePool(() => sql.poolStats());
  return new InstrumentedSqlClient(sql, metrics.database(), tracer, sql instanceof PgSqlClient ? 'postgresql' : 'pglite');
}

/** Opens what the given services need, once, registering each closer and readiness check. */
async function openDeps(config: RegistryConfig, names: readonly ServiceName[], life: Lifecycle, observability: Observability): Promise<ServiceDeps> {
  const { metrics, readiness, tracer } = observability;
  const opened = await openMetadata(config, observability);
  life.add(opened.close);
  readiness.add('database', opened.check);
  const deps: ServiceDeps = { metadata: opened.metadata };
  if (names.includes('upload-service') || names.includes('manifest-service')) {
    const store = await openContentStore(config, metrics.storage(), tracer);
    life.add(() => store.close());
    readiness.add('contentStore', () => store.stat(PROBE_KEY));
    deps.store = store;
  }
  if (names.includes('upload-service')) {
    const sessions = await openUploadSessions(config, tracer);
    life.add(() => sessions.close());
    readiness.add('sessions', () => sessions.get(PROBE_UPLOAD_ID));
    deps.sessions = sessions;
  }
  return deps;
}

function moduleFor(name: ServiceName, config: RegistryConfig, deps: ServiceDeps): { module: DynamicModule; queue: string } {
  switch (name) {
    case 'blob-service':
      return { module: BlobServiceModule.register(deps), queue: BLOB_SERVICE_QUEUE };
    case 'manifest-service':
      if (!deps.store) throw new Error('the manifest service needs a content store');
      return { module: ManifestServiceModule.register({ config, metadata: deps.metadata, store: deps.store }), queue: MANIFEST_SERVICE_QUEUE };
    case 'upload-service':
      if (!deps.store || !deps.sessions) throw new Error('the upload service needs a content store and a session store');
      return { module: UploadServiceModule.register({ config, metadata: deps.metadata, store: deps.store, sessions: deps.sessions }), queue: UPLOAD_SERVICE_QUEUE };
  }
}

/** Starts services on a transport (all three in the embedded registry, one per process otherwise). */
export async function startServices(
  config: RegistryConfig,
  names: readonly ServiceName[],
  transport: RegistryTransport,
  life: Lifecycle,
  observability: Observability,
): Promise<void> {
  const deps = await openDeps(config, names, life, observability);
  const interceptor = new MessageHandlingInterceptor(observability.logger, observability.metrics.messages(), observability.tracer);
  for (const name of names) {
    const { module, queue } = moduleFor(name, config, deps);
    const strategy = transport.createServer(queue);
    const app = await NestFactory.createMicroservice(module, { strategy, logger: nestLogger(config) });
    app.useGlobalInterceptors(interceptor);
    await app.listen();
    life.add(() => app.close());
    if (transport.kind === 'nats' && hasUnwrap(strategy)) observability.readiness.add(`transport:${name}`, transportCheck(strategy));
  }
}

function hasUnwrap(value: object): value is { unwrap<T>(): T } {
  return typeof (value as { unwrap?: unknown }).unwrap === 'function';
}

/** One service as its own process (distributed mode). */
export function runService(name: ServiceName, config: RegistryConfig): Promise<Started> {
  return startProcess(config, async (life, observability) => {
    await startServices(config, [name], openTransport(config), life, observability);
    return undefined;
  });
}
