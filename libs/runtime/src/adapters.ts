import { mkdir } from 'node:fs/promises';
import type { RegistryConfig } from '@ocireg/config';
import type { RegistryTransport } from '@ocireg/messaging';
import { InProcessTransport } from '@ocireg/messaging-inprocess';
import { NatsTransport } from '@ocireg/messaging-nats';
import { Metadata, SqlClient, createMetadata, migrate } from '@ocireg/metadata';
import { PgSqlClient, ensureDatabase } from '@ocireg/metadata-pg';
import { PgliteSqlClient } from '@ocireg/metadata-pglite';
import type { UploadSessionStore } from '@ocireg/sessions';
import { FileUploadSessionStore } from '@ocireg/sessions-file';
import { RedisUploadSessionStore } from '@ocireg/sessions-redis';
import type { ContentStore } from '@ocireg/storage';
import { FilesystemContentStore } from '@ocireg/storage-fs';
import { S3ContentStore } from '@ocireg/storage-s3';

/** The composition root's factories: the only place that knows which adapter serves each port. */
export async function openContentStore(config: RegistryConfig): Promise<ContentStore> {
  const storage = config.storage;
  const store: ContentStore =
    storage.driver === 'filesystem'
      ? new FilesystemContentStore({ rootDirectory: storage.rootDirectory })
      : new S3ContentStore({
          endPoint: storage.endPoint,
          port: storage.port,
          useSSL: storage.useSSL,
          accessKey: storage.accessKey,
          secretKey: storage.secretKey,
          region: storage.region,
          bucket: storage.bucket,
          rootDirectory: storage.rootDirectory,
          partSize: storage.partSize,
        });
  await store.init();
  return store;
}

export interface OpenMetadata {
  metadata: Metadata;
  sql: SqlClient;
}

/** Opens the metadata database and applies pending migrations (the same runner everywhere). */
export async function openMetadata(config: RegistryConfig): Promise<OpenMetadata> {
  const database = config.database;
  let sql: SqlClient;
  if (database.driver === 'pglite') {
    sql = await PgliteSqlClient.open({ dataDir: await ensureDirectory(database.dataDir) });
  } else {
    await ensureDatabase(database.url);
    sql = new PgSqlClient({ connectionString: database.url, max: database.poolMax });
  }
  await migrate(sql);
  return { metadata: createMetadata(sql), sql };
}

export async function openUploadSessions(config: RegistryConfig): Promise<UploadSessionStore> {
  const sessions = config.sessions;
  const store: UploadSessionStore =
    sessions.driver === 'file'
      ? new FileUploadSessionStore({ directory: sessions.directory })
      : new RedisUploadSessionStore({ url: sessions.url, keyPrefix: `${sessions.keyPrefix}upload:` });
  await store.init();
  return store;
}

export function openTransport(config: RegistryConfig): RegistryTransport {
  const transport = config.transport;
  return transport.driver === 'nats'
    ? new NatsTransport({ servers: transport.servers, timeoutMs: transport.timeoutMs, subjectPrefix: transport.subjectPrefix })
    : new InProcessTransport();
}

async function ensureDirectory(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  return path;
}
