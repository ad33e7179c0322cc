import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Settings come from environment variables, validated once at start-up into a typed config. Where
 * Distribution (registry:2) has a setting, the same name is used so that users keep their configuration.
 */
export type RunProfile = 'embedded' | 'distributed';

export interface FilesystemStorageConfig {
  driver: 'filesystem';
  rootDirectory: string;
  /** Large writes bypass the page cache (O_DIRECT) where the filesystem allows it. */
  directIo: boolean;
  /** Opening existing files, close, stat, rename and unlink run on the event loop instead of the thread pool (local disks). */
  inlineCalls: boolean;
}
export interface S3StorageConfig {
  driver: 's3';
  endPoint: string;
  port?: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  rootDirectory?: string;
  partSize: number;
  /** Bucket in the path (MinIO, s3rver) rather than the host name (AWS virtual-hosted style). */
  forcePathStyle: boolean;
}

/** TLS of the gateway: PEM file paths, read at start-up. */
export interface TlsConfig {
  certificate: string;
  key: string;
  /** CA certificates (PEM files) that client certificates must chain to (mutual TLS). */
  clientCas: string[];
}

/**
 * Who may do what. `none`: anyone may do anything (the embedded default). `htpasswd`: Basic auth against an
 * htpasswd file (bcrypt). `token`: bearer tokens per Docker's token auth spec, from an external token server
 * (verified with a root certificate bundle or a JWKS) or from the registry's own token endpoint (when a
 * signing key is configured; users from the htpasswd file).
 */
export type AuthConfig =
  | { mode: 'none' }
  | { mode: 'htpasswd'; realm: string; htpasswdPath: string; policyPath?: string; login: LoginLimits }
  | {
      mode: 'token';
      realm?: string;
      service: string;
      issuer: string;
      rootCertBundlePath?: string;
      jwksPath?: string;
      signingAlgorithms?: string[];
      /** The registry's own token endpoint: signing key (and optional certificate) PEM paths. */
      signingKeyPath?: string;
      signingCertPath?: string;
      htpasswdPath?: string;
      policyPath?: string;
      tokenLifetimeSeconds: number;
      login: LoginLimits;
    };

export interface LoginLimits {
  maxFailures: number;
  windowSeconds: number;
}

/** The operations listener (Distribution's `http.debug.addr`): /healthz, /readyz and /metrics. */
export interface DebugConfig {
  host: string;
  port: number;
}

export interface RegistryConfig {
  http: {
    host: string;
    port: number;
    tls?: TlsConfig;
    /** Where the operations listener serves; none when unset. */
    debug?: DebugConfig;
    /** On SIGTERM, how long in-flight requests may take to finish before connections are closed. */
    drainTimeoutSeconds: number;
  };
  auth: AuthConfig;
  log: { level: 'error' | 'warn' | 'info' | 'debug' };
  storage: (FilesystemStorageConfig | S3StorageConfig) & { deleteEnabled: boolean };
  database:
    | {
        driver: 'postgres';
        url: string;
        poolMax: number;
        /** Statements prepared once per connection (see PgSqlOptions.preparedStatements); off behind PgBouncer in transaction mode. */
        preparedStatements: boolean;
      }
    | { driver: 'pglite'; dataDir: string }
    /** The embedded journal store (libs/metadata/journal): snapshot + journal files in `directory`. */
    | { driver: 'journal'; directory: string };
  sessions: { driver: 'redis'; url: string; keyPrefix: string } | { driver: 'file'; directory: string };
  transport: { driver: 'nats'; servers: string[]; timeoutMs: number; subjectPrefix?: string } | { driver: 'inprocess' };
  uploads: {
    /** An unfinished upload expires after this long without activity (Distribution's uploadpurging age). */
    ttlSeconds: number;
    leaseSeconds: number;
    /**
     * Threads that hash large upload bodies beside the gateway's event loop (REGISTRY_UPLOAD_HASHTHREADS);
     * 0: hashed on the event loop.
     */
    hashThreads: number;
    /**
     * REGISTRY_HTTP_SECRET (Distribution's http.secret): signs the upload ids the gateway issues itself at the
     * POST (see UploadIds), the same on every replica. Unset: the embedded registry keeps one of its own in
     * `secretFile`; the distributed one stores a session at every POST instead.
     */
    secret?: string;
    secretFile?: string;
    /** Removing what expired uploads left in the content store, every intervalSeconds. */
    purge: { enabled: boolean; intervalSeconds: number };
  };
  manifests: { maxSize: number };
  /** OpenTelemetry traces (the standard OTEL_* variables): exported over OTLP/HTTP when an endpoint is set. */
  tracing: TracingConfig;
  /** The gateway's cache of metadata answers (blob descriptors, manifests, tags), invalidated across replicas. */
  cache: { enabled: boolean; maxEntries: number; ttlSeconds: number };
}

export interface TracingConfig {
  /** The OTLP/HTTP traces URL (…/v1/traces); tracing is off without one. */
  endpoint?: string;
  /** Share of new traces recorded, 0 to 1 (parent-based: a sampled incoming `traceparent` is always followed). */
  sampleRatio: number;
  /** `service.name` of the spans; the process's own name (`ocireg-gateway`, ...) when unset. */
  serviceName?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Go-style durations as Distribution writes them ("168h", "30m", "90s"), or plain seconds. */
export function parseDurationSeconds(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  let rest = value;
  let total = 0;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!match?.[1] || !match[2]) return undefined;
    total += Number(match[1]) * (UNIT_SECONDS[match[2]] ?? 0);
    rest = rest.slice(match[0].length);
  }
  return value.length > 0 ? total : undefined;
}

const boolString = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

function isNonEmptyDirectory(path: string): boolean {
  try {
    return readdirSync(path).length > 0;
  } catch {
    return false;
  }
}

/** Reads the env into a typed config, reporting every bad variable by name at once. */
export function loadConfig(env: Env, profile: RunProfile, cwd = process.cwd()): RegistryConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const take = <T>(name: string, schema: z.ZodType<T>, fallback: T): T => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    problems.push(`${name}=${JSON.stringify(raw)}: ${result.error.issues[0]?.message ?? 'invalid'}`);
    return fallback;
  };
  const required = (name: string): string => {
    const raw = get(name);
    if (raw === undefined) problems.push(`${name} is required`);
    return raw ?? '';
  };
  const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
  const duration = z.string().transform((v, ctx) => {
    const seconds = parseDurationSeconds(v);
    if (seconds === undefined || seconds <= 0) ctx.addIssue({ code: 'custom', message: 'expected a duration like 168h or 30m' });
    return seconds ?? 0;
  });

  const dataDir = resolve(cwd, get('REGISTRY_DATA_DIR') ?? 'data');
  const embedded = profile === 'embedded';

  const addr = take('REGISTRY_HTTP_ADDR', hostPort(), { host: '0.0.0.0', port: 5000 });
  const debug = take<DebugConfig | undefined>('REGISTRY_HTTP_DEBUG_ADDR', hostPort(), undefined);
  const drainTimeoutSeconds = take('REGISTRY_HTTP_DRAINTIMEOUT', duration, 30);
  const listen = { ...addr, ...(debug ? { debug } : {}), drainTimeoutSeconds };
  const tlsCertificate = get('REGISTRY_HTTP_TLS_CERTIFICATE');
  const tlsKey = get('REGISTRY_HTTP_TLS_KEY');
  if ((tlsCertificate === undefined) !== (tlsKey === undefined)) {
    problems.push('REGISTRY_HTTP_TLS_CERTIFICATE and REGISTRY_HTTP_TLS_KEY go together: set both or neither');
  }
  const clientCas = (get('REGISTRY_HTTP_TLS_CLIENTCAS') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const http: RegistryConfig['http'] =
    tlsCertificate && tlsKey
      ? { ...listen, tls: { certificate: resolve(cwd, tlsCertificate), key: resolve(cwd, tlsKey), clientCas: clientCas.map((p) => resolve(cwd, p)) } }
      : listen;
  const auth = readAuth({ get, take, required, problems, cwd, duration, int });
  const level = take('REGISTRY_LOG_LEVEL', z.enum(['error', 'warn', 'info', 'debug']), 'info');
  const deleteEnabled = take('REGISTRY_STORAGE_DELETE_ENABLED', boolString, false);

  const storageDriver = take('REGISTRY_STORAGE', z.enum(['filesystem', 's3']), 'filesystem');
  let storage: FilesystemStorageConfig | S3StorageConfig;
  if (storageDriver === 's3') {
    const endpoint = take('REGISTRY_STORAGE_S3_REGIONENDPOINT', z.url(), 'https://s3.amazonaws.com');
    const url = new URL(endpoint);
    storage = {
      driver: 's3',
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      useSSL: take('REGISTRY_STORAGE_S3_SECURE', boolString, url.protocol === 'https:'),
      accessKey: required('REGISTRY_STORAGE_S3_ACCESSKEY'),
      secretKey: required('REGISTRY_STORAGE_S3_SECRETKEY'),
      region: get('REGISTRY_STORAGE_S3_REGION') ?? 'us-east-1',
      bucket: required('REGISTRY_STORAGE_S3_BUCKET'),
      rootDirectory: get('REGISTRY_STORAGE_S3_ROOTDIRECTORY')?.replace(/^\/+|\/+$/g, '') || undefined,
      partSize: take('REGISTRY_STORAGE_S3_CHUNKSIZE', int(5 * 1024 * 1024, 5 * 1024 * 1024 * 1024), 8 * 1024 * 1024),
      forcePathStyle: take('REGISTRY_STORAGE_S3_FORCEPATHSTYLE', boolString, true),
    };
  } else {
    storage = {
      driver: 'filesystem',
      rootDirectory: resolve(cwd, get('REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY') ?? (embedded ? `${dataDir}/content` : '/var/lib/registry')),
      directIo: take('REGISTRY_STORAGE_FILESYSTEM_DIRECTIO', boolString, true),
      inlineCalls: take('REGISTRY_STORAGE_FILESYSTEM_INLINECALLS', boolString, true),
    };
  }

  const pgliteDataDir = resolve(cwd, get('REGISTRY_DATABASE_PGLITE_DATADIR') ?? `${dataDir}/metadata`);
  // An embedded installation that already keeps its metadata in PGlite stays on it unless told otherwise.
  const defaultDriver = !embedded ? 'postgres' : isNonEmptyDirectory(pgliteDataDir) ? 'pglite' : 'journal';
  const databaseDriver = take('REGISTRY_DATABASE_DRIVER', z.enum(['postgres', 'pglite', 'journal']), defaultDriver);
  if (databaseDriver === 'journal' && !embedded) {
    // One process owns the journal: separate services would each keep metadata of their own.
    problems.push('REGISTRY_DATABASE_DRIVER=journal is for the embedded registry (one process); use postgres');
  }
  const database: RegistryConfig['database'] =
    databaseDriver === 'pglite'
      ? { driver: 'pglite', dataDir: pgliteDataDir }
      : databaseDriver === 'journal'
        ? { driver: 'journal', directory: resolve(cwd, get('REGISTRY_DATABASE_JOURNAL_DIR') ?? `${dataDir}/metadata-journal`) }
      : {
          driver: 'postgres',
          url: take('REGISTRY_DATABASE_URL', z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://...'), 'postgres://postgres@127.0.0.1:5432/ocireg'),
          poolMax: take('REGISTRY_DATABASE_POOL_MAX', int(1, 1000), 20),
          preparedStatements: take('REGISTRY_DATABASE_PREPAREDSTATEMENTS', boolString, true),
        };

  const sessionsDriver = take('REGISTRY_SESSIONS_DRIVER', z.enum(['redis', 'file']), embedded ? 'file' : 'redis');
  const sessions: RegistryConfig['sessions'] =
    sessionsDriver === 'file'
      ? { driver: 'file', directory: resolve(cwd, get('REGISTRY_SESSIONS_FILE_DIRECTORY') ?? `${dataDir}/uploads`) }
      : { driver: 'redis', url: redisUrl(take('REGISTRY_REDIS_ADDR', hostPort(), { host: '127.0.0.1', port: 6379 }), get('REGISTRY_REDIS_PASSWORD'), take('REGISTRY_REDIS_DB', int(0, 1000), 0)), keyPrefix: get('REGISTRY_REDIS_KEYPREFIX') ?? 'ocireg:' };

  const transportDriver = take('REGISTRY_TRANSPORT', z.enum(['nats', 'inprocess']), embedded ? 'inprocess' : 'nats');
  const transport: RegistryConfig['transport'] =
    transportDriver === 'nats'
      ? {
          driver: 'nats',
          servers: take('REGISTRY_NATS_SERVERS', z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)), ['nats://127.0.0.1:4222']),
          timeoutMs: take('REGISTRY_NATS_TIMEOUT_MS', int(100, 600_000), 30_000),
          subjectPrefix: take('REGISTRY_NATS_SUBJECT_PREFIX', z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only'), undefined),
        }
      : { driver: 'inprocess' };

  const ttlSeconds = take('REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE', duration, 168 * 3600);
  const leaseSeconds = take('REGISTRY_UPLOAD_LEASE', duration, 15 * 60);
  // One CPU: a thread beside the event loop would only take turns with it.
  const hashThreads = take('REGISTRY_UPLOAD_HASHTHREADS', int(0, 64), Math.max(0, Math.min(2, availableParallelism() - 1)));
  const secret = take<string | undefined>('REGISTRY_HTTP_SECRET', z.string().min(16, 'at least 16 characters'), undefined);
  const purgeEnabled = take('REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED', boolString, true);
  const purgeInterval = take('REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_INTERVAL', duration, 24 * 3600);
  const maxSize = take('REGISTRY_VALIDATION_MANIFESTS_MAXSIZE', int(1024, 64 * 1024 * 1024), 4 * 1024 * 1024);
  const tracing = readTracing(get, take);
  const cache = {
    enabled: take('REGISTRY_CACHE_ENABLED', boolString, true),
    maxEntries: take('REGISTRY_CACHE_MAXENTRIES', int(1, 10_000_000), 10_000),
    ttlSeconds: take('REGISTRY_CACHE_TTL', duration, 30),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    http,
    auth,
    log: { level },
    storage: { ...storage, deleteEnabled },
    database,
    sessions,
    transport,
    uploads: {
      ttlSeconds: Math.ceil(ttlSeconds),
      leaseSeconds: Math.ceil(leaseSeconds),
      hashThreads,
      ...(secret !== undefined ? { secret } : embedded ? { secretFile: resolve(dataDir, 'http-secret') } : {}),
      purge: { enabled: purgeEnabled, intervalSeconds: purgeInterval },
    },
    manifests: { maxSize },
    tracing,
    cache,
  };
}

/**
 * Tracing from OpenTelemetry's own variables, as every OTel SDK reads them: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * (the full URL) or OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, `/v1/traces` appended); OTEL_SDK_DISABLED=true
 * or OTEL_TRACES_EXPORTER=none turn it off; OTEL_TRACES_SAMPLER_ARG is the sampled share of new traces;
 * OTEL_SERVICE_NAME names the service. Headers, timeout and compression (OTEL_EXPORTER_OTLP_HEADERS, ...)
 * are read by the exporter itself.
 */
function readTracing(get: (name: string) => string | undefined, take: <T>(name: string, schema: z.ZodType<T>, fallback: T) => T): TracingConfig {
  const url = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
  const signalEndpoint = take<string | undefined>('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', url, undefined);
  const baseEndpoint = take<string | undefined>('OTEL_EXPORTER_OTLP_ENDPOINT', url, undefined);
  const disabled = take('OTEL_SDK_DISABLED', boolString, false);
  const exporter = take('OTEL_TRACES_EXPORTER', z.enum(['otlp', 'none']), 'otlp');
  const sampleRatio = take('OTEL_TRACES_SAMPLER_ARG', z.coerce.number().min(0).max(1), 1);
  const serviceName = get('OTEL_SERVICE_NAME');
  const endpoint = signalEndpoint ?? (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  return {
    ...(endpoint && !disabled && exporter === 'otlp' ? { endpoint } : {}),
    sampleRatio,
    ...(serviceName ? { serviceName } : {}),
  };
}

/** "host:port", ":port" (all interfaces, as Distribution accepts) or "[v6]:port". */
function hostPort(): z.ZodType<{ host: string; port: number }> {
  return z.string().transform((value, ctx) => {
    const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
    const port = Number(match?.[3]);
    if (!match || port < 0 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: 'expected host:port or :port' });
      return { host: '', port: 0 };
    }
    return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
  });
}

function redisUrl(addr: { host: string; port: number }, password: string | undefined, db: number): string {
  const auth = password ? `:${encodeURIComponent(password)}@` : '';
  return `redis://${auth}${addr.host}:${addr.port}/${db}`;
}

interface Readers {
  get: (name: string) => string | undefined;
  take: <T>(name: string, schema: z.ZodType<T>, fallback: T) => T;
  required: (name: string) => string;
  problems: string[];
  cwd: string;
  duration: z.ZodType<number>;
  int: (min: number, max: number) => z.ZodType<number>;
}

/** REGISTRY_AUTH (none | htpasswd | token) and its settings, with Distribution's names. */
function readAuth({ get, take, required, problems, cwd, duration, int }: Readers): AuthConfig {
  const mode = take('REGISTRY_AUTH', z.enum(['none', 'htpasswd', 'token']), 'none');
  const path = (name: string) => {
    const value = get(name);
    return value === undefined ? undefined : resolve(cwd, value);
  };
  const login: LoginLimits = {
    maxFailures: take('REGISTRY_AUTH_LOGIN_MAXFAILURES', int(1, 1_000_000), 10),
    windowSeconds: take('REGISTRY_AUTH_LOGIN_WINDOW', duration, 15 * 60),
  };
  if (mode === 'htpasswd') {
    return {
      mode,
      realm: get('REGISTRY_AUTH_HTPASSWD_REALM') ?? 'Registry Realm',
      htpasswdPath: resolve(cwd, required('REGISTRY_AUTH_HTPASSWD_PATH')),
      policyPath: path('REGISTRY_AUTH_POLICY_PATH'),
      login,
    };
  }
  if (mode === 'token') {
    const signingKeyPath = path('REGISTRY_AUTH_TOKEN_SIGNINGKEY');
    const rootCertBundlePath = path('REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE');
    const jwksPath = path('REGISTRY_AUTH_TOKEN_JWKS');
    if (!signingKeyPath && !rootCertBundlePath && !jwksPath) {
      problems.push('REGISTRY_AUTH=token needs REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE or REGISTRY_AUTH_TOKEN_JWKS (an external token server), or REGISTRY_AUTH_TOKEN_SIGNINGKEY (the registry\'s own)');
    }
    const realm = get('REGISTRY_AUTH_TOKEN_REALM');
    if (!realm && !signingKeyPath) problems.push('REGISTRY_AUTH_TOKEN_REALM is required with an external token server');
    return {
      mode,
      realm,
      service: get('REGISTRY_AUTH_TOKEN_SERVICE') ?? 'ocireg',
      issuer: get('REGISTRY_AUTH_TOKEN_ISSUER') ?? 'ocireg',
      rootCertBundlePath,
      jwksPath,
      signingAlgorithms: get('REGISTRY_AUTH_TOKEN_SIGNINGALGORITHMS')?.split(',').map((s) => s.trim()).filter(Boolean),
      signingKeyPath,
      signingCertPath: path('REGISTRY_AUTH_TOKEN_SIGNINGCERT'),
      htpasswdPath: path('REGISTRY_AUTH_HTPASSWD_PATH'),
      policyPath: path('REGISTRY_AUTH_POLICY_PATH'),
      tokenLifetimeSeconds: take('REGISTRY_AUTH_TOKEN_EXPIRATION', duration, 300),
      login,
    };
  }
  return { mode: 'none' };
}
