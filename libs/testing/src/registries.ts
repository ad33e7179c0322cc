import { randomBytes } from 'node:crypto';
import { freePort, RegistryProcess, removeDir, startApp, stopApp, tempDir, waitForRegistry } from './processes';
import { TestS3, startS3 } from './s3';

export type RunMode = 'embedded' | 'distributed';

export interface TestRegistry {
  mode: RunMode;
  /** Base URL of the (first) gateway, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Base URLs of every gateway (distributed mode can start several). */
  urls: string[];
  /** Host:port of the first gateway, as skopeo wants it. */
  host: string;
  processes: RegistryProcess[];
  /** Base URL of each process's operations listener (/healthz, /readyz, /metrics), by process name. */
  debugUrls: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  gateways?: number;
  env?: Record<string, string>;
  /** Content store of the distributed registry: S3 (an s3rver, the default) or the filesystem. */
  storage?: 's3' | 'filesystem';
  /** Embedded registry's data directory; when given, it is kept after stop() (to start again on it). */
  dataDir?: string;
  /** CA (PEM path) to trust and client certificate to present when the registry serves HTTPS. */
  ca?: string;
  clientCert?: { cert: string; key: string };
  /** Statuses that also count as "up" while waiting (401/403 when access control is on). */
  readyStatuses?: number[];
}

function schemeOf(options: StartOptions): string {
  return options.env?.['REGISTRY_HTTP_TLS_CERTIFICATE'] ? 'https' : 'http';
}

function waitFor(url: string, procs: RegistryProcess[], options: StartOptions): Promise<void> {
  return waitForRegistry(url, procs, 60_000, { ca: options.ca, clientCert: options.clientCert }, options.readyStatuses ?? []);
}

/** The embedded registry: one process, in-process transport, filesystem + journal metadata + file sessions in a temp dir. */
export async function startEmbedded(options: StartOptions = {}): Promise<TestRegistry> {
  const dataDir = options.dataDir ?? tempDir('embedded');
  const removeData = () => (options.dataDir ? undefined : removeDir(dataDir));
  const port = await freePort();
  const debugPort = await freePort();
  const proc = startApp('registry', { REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, REGISTRY_DATA_DIR: dataDir, REGISTRY_HTTP_DEBUG_ADDR: `127.0.0.1:${debugPort}`, ...options.env });
  const url = `${schemeOf(options)}://127.0.0.1:${port}`;
  try {
    await waitFor(url, [proc], options);
  } catch (error) {
    await stopApp(proc);
    removeData();
    throw error;
  }
  return {
    mode: 'embedded',
    url,
    urls: [url],
    host: `127.0.0.1:${port}`,
    processes: [proc],
    debugUrls: { registry: `http://127.0.0.1:${debugPort}` },
    stop: async () => {
      await stopApp(proc);
      removeData();
    },
  };
}

/**
 * The distributed registry: each service and each gateway a separate process over the real NATS (subjects
 * prefixed for this run), Postgres (a fresh database), Redis (a fresh key prefix) and S3 (an s3rver).
 */
export async function startDistributed(options: StartOptions = {}): Promise<TestRegistry> {
  const id = randomBytes(4).toString('hex');
  const dataDir = tempDir('distributed');
  const pgHost = process.env['PGHOST'] ?? '127.0.0.1';
  let s3: TestS3 | undefined;
  const processes: RegistryProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map(stopApp));
    await s3?.stop();
    removeDir(dataDir);
    await dropDatabase(`ocireg_e2e_${id}`, pgHost);
  };
  try {
    s3 = options.storage === 'filesystem' ? undefined : await startS3();
    const storageEnv: Record<string, string> = s3
      ? {
          REGISTRY_STORAGE: 's3',
          REGISTRY_STORAGE_S3_REGIONENDPOINT: s3.endpoint,
          REGISTRY_STORAGE_S3_BUCKET: s3.bucket,
          REGISTRY_STORAGE_S3_ACCESSKEY: s3.accessKey,
          REGISTRY_STORAGE_S3_SECRETKEY: s3.secretKey,
          REGISTRY_STORAGE_S3_CHUNKSIZE: String(5 * 1024 * 1024),
        }
      : { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: `${dataDir}/content` };
    const env: Record<string, string> = {
      REGISTRY_DATABASE_URL: `postgres://postgres@${pgHost}:5432/ocireg_e2e_${id}`,
      REGISTRY_REDIS_KEYPREFIX: `ocireg-e2e-${id}:`,
      REGISTRY_NATS_SUBJECT_PREFIX: `e2e-${id}`,
      // Shared by every replica, as a deployment's: the gateways sign upload ids (options.env may unset it).
      REGISTRY_HTTP_SECRET: randomBytes(16).toString('hex'),
      ...storageEnv,
      ...options.env,
    };
    // Every process gets its own operations listener.
    const debugUrls: Record<string, string> = {};
    const debugEnv = async (name: string): Promise<Record<string, string>> => {
      const port = await freePort();
      debugUrls[name] = `http://127.0.0.1:${port}`;
      return { REGISTRY_HTTP_DEBUG_ADDR: `127.0.0.1:${port}` };
    };
    for (const service of ['blob-service', 'manifest-service', 'upload-service']) processes.push(startApp(service, { ...env, ...(await debugEnv(service)) }));
    const urls: string[] = [];
    for (let i = 0; i < (options.gateways ?? 1); i++) {
      const port = await freePort();
      const name = `gateway-${i}`;
      processes.push(startApp('gateway', { ...env, REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, ...(await debugEnv(name)) }, name));
      urls.push(`${schemeOf(options)}://127.0.0.1:${port}`);
    }
    for (const url of urls) await waitFor(url, processes, options);
    const first = urls[0] ?? '';
    return { mode: 'distributed', url: first, urls, host: first.replace(/^https?:\/\//, ''), processes, debugUrls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export function startRegistry(mode: RunMode, options: StartOptions = {}): Promise<TestRegistry> {
  return mode === 'embedded' ? startEmbedded(options) : startDistributed(options);
}

async function dropDatabase(name: string, host: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ host, user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } catch {
    // best effort
  } finally {
    await client.end().catch(() => undefined);
  }
}
