import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseDurationSeconds } from './config';

describe('loadConfig', () => {
  it('gives the embedded profile a self-contained default under ./data', () => {
    const config = loadConfig({}, 'embedded', '/srv');
    expect(config.http).toEqual({ host: '0.0.0.0', port: 5000, drainTimeoutSeconds: 30 });
    expect(config.http.debug).toBeUndefined();
    expect(config.storage).toMatchObject({ driver: 'filesystem', rootDirectory: '/srv/data/content', directIo: true, inlineCalls: true, deleteEnabled: false });
    expect(config.database).toEqual({ driver: 'journal', directory: '/srv/data/metadata-journal' });
    expect(config.sessions).toEqual({ driver: 'file', directory: '/srv/data/uploads' });
    expect(config.transport).toEqual({ driver: 'inprocess' });
    expect(config.manifests.maxSize).toBe(4 * 1024 * 1024);
  });

  describe('the embedded metadata driver', () => {
    let root = '';
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'ocireg-config-'));
    });
    afterEach(() => {
      rmSync(root, { recursive: true, force: true });
    });

    it('keeps PGlite when the data directory already holds a PGlite database', () => {
      mkdirSync(join(root, 'data', 'metadata'), { recursive: true });
      writeFileSync(join(root, 'data', 'metadata', 'PG_VERSION'), '17\n');
      expect(loadConfig({}, 'embedded', root).database).toEqual({ driver: 'pglite', dataDir: join(root, 'data', 'metadata') });
      const custom = join(root, 'custom-pglite');
      expect(loadConfig({ REGISTRY_DATABASE_PGLITE_DATADIR: custom }, 'embedded', root).database).toEqual({
        driver: 'journal',
        directory: join(root, 'data', 'metadata-journal'),
      });
      expect(loadConfig({ REGISTRY_DATABASE_DRIVER: 'journal' }, 'embedded', root).database).toEqual({
        driver: 'journal',
        directory: join(root, 'data', 'metadata-journal'),
      });
      expect(loadConfig({}, 'distributed', root).database).toMatchObject({ driver: 'postgres' });
    });

    it('uses the journal when the PGlite directory is missing or empty, in its own directory', () => {
      expect(loadConfig({}, 'embedded', root).database).toEqual({ driver: 'journal', directory: join(root, 'data', 'metadata-journal') });
      mkdirSync(join(root, 'data', 'metadata'), { recursive: true });
      expect(loadConfig({}, 'embedded', root).database).toEqual({ driver: 'journal', directory: join(root, 'data', 'metadata-journal') });
      expect(loadConfig({ REGISTRY_DATABASE_JOURNAL_DIR: 'meta' }, 'embedded', root).database).toEqual({ driver: 'journal', directory: join(root, 'meta') });
      expect(loadConfig({ REGISTRY_DATABASE_DRIVER: 'pglite' }, 'embedded', root).database).toEqual({ driver: 'pglite', dataDir: join(root, 'data', 'metadata') });
      expect(() => loadConfig({ REGISTRY_DATABASE_DRIVER: 'journal' }, 'distributed', root)).toThrow(/REGISTRY_DATABASE_DRIVER=journal is for the embedded registry/);
      expect(() => loadConfig({ REGISTRY_DATABASE_DRIVER: 'sqlite' }, 'embedded', root)).toThrow(/REGISTRY_DATABASE_DRIVER/);
    });
  });

  it('gives the distributed profile the local servers on their standard ports', () => {
    const config = loadConfig({}, 'distributed', '/srv');
    expect(config.database).toMatchObject({ driver: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/ocireg' });
    expect(config.sessions).toMatchObject({ driver: 'redis', url: 'redis://127.0.0.1:6379/0' });
    expect(config.transport).toMatchObject({ driver: 'nats', servers: ['nats://127.0.0.1:4222'] });
  });

  it("reads Distribution's variable names", () => {
    const config = loadConfig(
      {
        REGISTRY_HTTP_ADDR: ':5001',
        REGISTRY_STORAGE_DELETE_ENABLED: 'true',
        REGISTRY_STORAGE: 's3',
        REGISTRY_STORAGE_S3_REGIONENDPOINT: 'http://minio:9000',
        REGISTRY_STORAGE_S3_ACCESSKEY: 'a',
        REGISTRY_STORAGE_S3_SECRETKEY: 's',
        REGISTRY_STORAGE_S3_BUCKET: 'b',
        REGISTRY_STORAGE_S3_ROOTDIRECTORY: '/registry/',
        REGISTRY_REDIS_ADDR: 'redis:6380',
        REGISTRY_REDIS_PASSWORD: 'p@ss',
        REGISTRY_LOG_LEVEL: 'debug',
        REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '2h30m',
      },
      'distributed',
    );
    expect(config.http).toEqual({ host: '0.0.0.0', port: 5001, drainTimeoutSeconds: 30 });
    expect(config.storage).toMatchObject({ driver: 's3', endPoint: 'minio', port: 9000, useSSL: false, bucket: 'b', rootDirectory: 'registry', deleteEnabled: true });
    expect(config.sessions).toMatchObject({ url: 'redis://:p%40ss@redis:6380/0' });
    expect(config.log.level).toBe('debug');
    expect(config.uploads.ttlSeconds).toBe(9000);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ REGISTRY_HTTP_ADDR: 'nope', REGISTRY_LOG_LEVEL: 'loud', REGISTRY_STORAGE: 's3' }, 'embedded');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['REGISTRY_HTTP_ADDR', 'REGISTRY_LOG_LEVEL', 'REGISTRY_STORAGE_S3_ACCESSKEY', 'REGISTRY_STORAGE_S3_BUCKET']) {
      expect(message).toContain(name);
    }
  });

  it('reads the operations listener address and the drain timeout', () => {
    const config = loadConfig({ REGISTRY_HTTP_DEBUG_ADDR: ':5001', REGISTRY_HTTP_DRAINTIMEOUT: '1m30s' }, 'distributed');
    expect(config.http.debug).toEqual({ host: '0.0.0.0', port: 5001 });
    expect(config.http.drainTimeoutSeconds).toBe(90);
    expect(loadConfig({ REGISTRY_HTTP_DEBUG_ADDR: '127.0.0.1:9090' }, 'embedded').http.debug).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(() => loadConfig({ REGISTRY_HTTP_DEBUG_ADDR: 'localhost', REGISTRY_HTTP_DRAINTIMEOUT: 'soon' }, 'embedded')).toThrow(
      /REGISTRY_HTTP_DEBUG_ADDR[\s\S]*REGISTRY_HTTP_DRAINTIMEOUT/,
    );
  });

  it('reads the HTTP secret that signs upload ids: the embedded profile keeps its own file without one, the distributed has none', () => {
    const secret = 'a shared secret of some length';
    expect(loadConfig({ REGISTRY_HTTP_SECRET: secret }, 'distributed').uploads).toMatchObject({ secret });
    expect(loadConfig({ REGISTRY_HTTP_SECRET: secret }, 'embedded').uploads.secretFile).toBeUndefined();
    const distributed = loadConfig({}, 'distributed').uploads;
    expect(distributed.secret).toBeUndefined();
    expect(distributed.secretFile).toBeUndefined();
    expect(loadConfig({}, 'embedded', '/srv').uploads).toMatchObject({ secretFile: '/srv/data/http-secret' });
    expect(loadConfig({ REGISTRY_DATA_DIR: '/var/lib/ocireg' }, 'embedded').uploads.secretFile).toBe('/var/lib/ocireg/http-secret');
    expect(() => loadConfig({ REGISTRY_HTTP_SECRET: 'too short' }, 'distributed')).toThrow(/REGISTRY_HTTP_SECRET[\s\S]*16 characters/);
  });

  it("reads tracing from OpenTelemetry's variables, off unless an endpoint is set", () => {
    expect(loadConfig({}, 'embedded').tracing).toEqual({ sampleRatio: 1 });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 'distributed').tracing.endpoint).toBe('http://collector:4318/v1/traces');
    const config = loadConfig(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/v1/traces', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_SERVICE_NAME: 'registry-eu' },
      'distributed',
    );
    expect(config.tracing).toEqual({ endpoint: 'https://otel.example/v1/traces', sampleRatio: 0.25, serviceName: 'registry-eu' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, 'embedded').tracing.endpoint).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }, 'embedded').tracing.endpoint).toBeUndefined();
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_TRACES_SAMPLER_ARG: '2' }, 'embedded')).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT[\s\S]*OTEL_TRACES_SAMPLER_ARG/,
    );
  });

  it('turns direct I/O of the filesystem store off on request, and refuses a value that is not a boolean', () => {
    expect(loadConfig({ REGISTRY_STORAGE_FILESYSTEM_DIRECTIO: 'false' }, 'embedded').storage).toMatchObject({ driver: 'filesystem', directIo: false });
    expect(() => loadConfig({ REGISTRY_STORAGE_FILESYSTEM_DIRECTIO: 'sometimes' }, 'embedded')).toThrow(/REGISTRY_STORAGE_FILESYSTEM_DIRECTIO/);
  });

  it('moves the metadata calls of the filesystem store to the thread pool on request (network filesystems)', () => {
    expect(loadConfig({ REGISTRY_STORAGE_FILESYSTEM_INLINECALLS: 'false' }, 'embedded').storage).toMatchObject({ driver: 'filesystem', inlineCalls: false });
    expect(() => loadConfig({ REGISTRY_STORAGE_FILESYSTEM_INLINECALLS: 'nfs' }, 'embedded')).toThrow(/REGISTRY_STORAGE_FILESYSTEM_INLINECALLS/);
  });

  it('prepares Postgres statements unless told not to (a pooler in transaction mode)', () => {
    expect(loadConfig({}, 'distributed').database).toMatchObject({ driver: 'postgres', preparedStatements: true });
    expect(loadConfig({ REGISTRY_DATABASE_PREPAREDSTATEMENTS: 'false' }, 'distributed').database).toMatchObject({ driver: 'postgres', preparedStatements: false });
    expect(() => loadConfig({ REGISTRY_DATABASE_PREPAREDSTATEMENTS: 'pgbouncer' }, 'distributed')).toThrow(/REGISTRY_DATABASE_PREPAREDSTATEMENTS/);
  });

  it('reads the threads that hash upload bodies (by default one fewer than the CPUs, at most 2)', () => {
    expect(loadConfig({}, 'embedded').uploads.hashThreads).toBe(Math.max(0, Math.min(2, availableParallelism() - 1)));
    expect(loadConfig({ REGISTRY_UPLOAD_HASHTHREADS: '0' }, 'distributed').uploads.hashThreads).toBe(0);
    expect(loadConfig({ REGISTRY_UPLOAD_HASHTHREADS: '4' }, 'distributed').uploads.hashThreads).toBe(4);
    expect(() => loadConfig({ REGISTRY_UPLOAD_HASHTHREADS: '-1' }, 'embedded')).toThrow(/REGISTRY_UPLOAD_HASHTHREADS/);
  });

  it("reads the gateway's metadata cache settings", () => {
    expect(loadConfig({}, 'distributed').cache).toEqual({ enabled: true, maxEntries: 10_000, ttlSeconds: 30 });
    expect(loadConfig({ REGISTRY_CACHE_ENABLED: 'false', REGISTRY_CACHE_MAXENTRIES: '500', REGISTRY_CACHE_TTL: '2m' }, 'embedded').cache).toEqual({ enabled: false, maxEntries: 500, ttlSeconds: 120 });
    expect(() => loadConfig({ REGISTRY_CACHE_MAXENTRIES: '0', REGISTRY_CACHE_TTL: 'never' }, 'embedded')).toThrow(/REGISTRY_CACHE_MAXENTRIES[\s\S]*REGISTRY_CACHE_TTL/);
  });

  it('parses Go-style durations', () => {
    expect(parseDurationSeconds('168h')).toBe(168 * 3600);
    expect(parseDurationSeconds('1m30s')).toBe(90);
    expect(parseDurationSeconds('45')).toBe(45);
    expect(parseDurationSeconds('soon')).toBeUndefined();
    expect(parseDurationSeconds('10x')).toBeUndefined();
  });

  it('reads TLS files and insists on certificate and key together', () => {
    const config = loadConfig({ REGISTRY_HTTP_TLS_CERTIFICATE: 'c.pem', REGISTRY_HTTP_TLS_KEY: 'k.pem', REGISTRY_HTTP_TLS_CLIENTCAS: 'a.pem, b.pem' }, 'embedded', '/etc/r');
    expect(config.http.tls).toEqual({ certificate: '/etc/r/c.pem', key: '/etc/r/k.pem', clientCas: ['/etc/r/a.pem', '/etc/r/b.pem'] });
    expect(() => loadConfig({ REGISTRY_HTTP_TLS_CERTIFICATE: 'c.pem' }, 'embedded')).toThrow(/REGISTRY_HTTP_TLS_KEY/);
  });

  it("reads Distribution's auth settings", () => {
    expect(loadConfig({}, 'embedded').auth).toEqual({ mode: 'none' });
    const htpasswd = loadConfig({ REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: 'users', REGISTRY_AUTH_HTPASSWD_REALM: 'R' }, 'embedded', '/etc/r');
    expect(htpasswd.auth).toMatchObject({ mode: 'htpasswd', realm: 'R', htpasswdPath: '/etc/r/users', login: { maxFailures: 10, windowSeconds: 900 } });
    const token = loadConfig(
      { REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_REALM: 'https://auth/token', REGISTRY_AUTH_TOKEN_SERVICE: 's', REGISTRY_AUTH_TOKEN_ISSUER: 'i', REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: 'roots.pem' },
      'embedded',
      '/etc/r',
    );
    expect(token.auth).toMatchObject({ mode: 'token', realm: 'https://auth/token', service: 's', issuer: 'i', rootCertBundlePath: '/etc/r/roots.pem' });
    expect(() => loadConfig({ REGISTRY_AUTH: 'htpasswd' }, 'embedded')).toThrow(/REGISTRY_AUTH_HTPASSWD_PATH/);
    expect(() => loadConfig({ REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_REALM: 'x' }, 'embedded')).toThrow(/ROOTCERTBUNDLE/);
    expect(() => loadConfig({ REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_JWKS: 'k.json' }, 'embedded')).toThrow(/REGISTRY_AUTH_TOKEN_REALM/);
  });
});
