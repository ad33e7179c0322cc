import { Logger } from '@nestjs/common';
import type { RegistryConfig } from '@ocireg/config';
import type { RegistryTransport } from '@ocireg/messaging';
import { InProcessTransport } from '@ocireg/messaging-inprocess';
import { NatsTransport } from '@ocireg/messaging-nats';
import type { StorageMetrics, Tracer } from '@ocireg/observability';
import type { ContentStore } from '@ocireg/storage';
import { FilesystemContentStore } from '@ocireg/storage-fs';
import { S3ContentStore } from '@ocireg/storage-s3';
import { InstrumentedContentStore } from './instrumented-store';

/**
 * The ports every process uses: which adapter serves the content store and the transport. With `metrics`, the
 * store comes wrapped in the decorator that times its operations.
 */
export async function openContentStore(config: RegistryConfig, metrics?: StorageMetrics, tracer?: Tracer): Promise<ContentStore> {
  const storage = config.storage;
  const store: ContentStore =
    storage.driver === 'filesystem'
      ? new FilesystemContentStore({
          rootDirectory: storage.rootDirectory,
          directIo: storage.directIo,
          inlineCalls: storage.inlineCalls,
          onBackgroundSyncError: (file, error) =>
            new Logger('ContentStore').error(`sync of unfinished upload file ${file} failed, upload discarded: ${String(error)}`),
        })
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
          pathStyle: storage.forcePathStyle,
        });
  await store.init();
  return metrics ? new InstrumentedContentStore(store, metrics, tracer) : store;
}

export function openTransport(config: RegistryConfig): RegistryTransport {
  const transport = config.transport;
  return transport.driver === 'nats'
    ? new NatsTransport({ servers: transport.servers, timeoutMs: transport.timeoutMs, subjectPrefix: transport.subjectPrefix })
    : new InProcessTransport();
}
