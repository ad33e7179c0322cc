/**
 * Starts the registries under test as child processes whose PIDs are known (for CPU and RSS): ours embedded
 * (one process), ours distributed (gateway + three services over NATS, Postgres and Redis, filesystem
 * content) and the reference (Distribution's `docker-registry serve`), each in its own temporary directory.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WatchedProcess } from './procstat';

export type SideSpec = { kind: 'embedded' } | { kind: 'distributed' } | { kind: 'distribution' } | { kind: 'url'; url: string };

export interface RegistryHandle {
  label: string;
  url: string;
  processes: WatchedProcess[];
  description: string;
  /** Why a process of the registry is gone (its exit and the tail of its log), undefined while all run. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  root: string;
  /** REGISTRY_LOG_LEVEL of our processes; undefined keeps the registry's default (info, with access log). */
  logLevel?: string;
  keep?: boolean;
  /** Write a V8 CPU profile of each of our processes into this directory when it exits (node --cpu-prof). */
  profileDir?: string;
}

export function sideLabel(spec: SideSpec): string {
  return spec.kind === 'url' ? spec.url : spec.kind;
}

/** Ports handed out by this run: the kernel may offer a released port again before its user binds it. */
const handedOut = new Set<number>();

/** A free TCP port on 127.0.0.1, never one this run already handed out (as libs/testing's freePort). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const found = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(found));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

interface Child {
  name: string;
  child: ChildProcess;
  logPath: string;
}

function spawnLogged(name: string, command: string, args: string[], env: Record<string, string>, dir: string, cwd: string): Child {
  const logPath = join(dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  // Its own process group: a signal to the bench's group (Ctrl-C) reaches the registries only through stop().
  const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  return { name, child, logPath };
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

function statusOf(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits until the base endpoint answers 200 and (for ours) every service behind the gateway answers. */
async function waitUntilUp(url: string, children: Child[], timeoutMs = 90_000): Promise<void> {
  const probes: Array<[string, string, number]> = [
    ['/v2/', 'GET', 200],
    ['/v2/_catalog', 'GET', 200],
    [`/v2/readiness/probe/blobs/sha256:${'0'.repeat(64)}`, 'HEAD', 404],
  ];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with ${dead.child.exitCode}:\n${tail(dead.logPath)}`);
    let up = true;
    for (const [path, method, status] of probes) {
      const answer = await statusOf(`${url}${path}`, method).catch(() => 0);
      if (answer !== status) {
        up = false;
        break;
      }
    }
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`registry at ${url} did not start:\n${children.map((c) => `--- ${c.name}\n${tail(c.logPath)}`).join('\n')}`);
}

async function stopChild(c: Child): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  const exited = new Promise<void>((done) => c.child.once('exit', () => done()));
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function handle(label: string, url: string, children: Child[], description: string, cleanup: () => Promise<void>): RegistryHandle {
  return {
    label,
    url,
    processes: children.map((c) => ({ name: c.name, pid: c.child.pid ?? -1 })),
    description,
    exited: () => {
      const gone = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
      return gone ? `${gone.name} (pid ${gone.child.pid}) exited (${gone.child.signalCode ?? gone.child.exitCode}); its log ends with:\n${tail(gone.logPath).slice(-1500)}` : undefined;
    },
    stop: async () => {
      await Promise.all(children.map(stopChild));
      await cleanup();
    },
  };
}

async function startWith(label: string, url: string, children: Child[], description: string, cleanup: () => Promise<void>): Promise<RegistryHandle> {
  try {
    await waitUntilUp(url, children);
  } catch (error) {
    await Promise.all(children.map(stopChild));
    await cleanup();
    throw error;
  }
  return handle(label, url, children, description, cleanup);
}

/** Node arguments that run one of our apps: bin/ocireg.js through launch-app.js (see there why). */
function appArgs(app: string, options: LaunchOptions): string[] {
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  return [...profile, join(__dirname, 'launch-app.js'), app];
}

export interface MallocTuning {
  MALLOC_TUNING: Record<string, string>;
  wantsMallocTuning(env: NodeJS.ProcessEnv, platform: string): boolean;
  runTuned(script: string, args: string[], what: string): void;
  stopWithLauncher(): void;
}

/** bin/malloc-tuning.js, the launcher's malloc settings (plain JavaScript, loaded at run time). */
export function mallocTuning(root: string): MallocTuning {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(root, 'bin', 'malloc-tuning.js')) as MallocTuning;
}

/**
 * Our processes get the malloc settings in their environment, as the image gives them, so that bin/ocireg.js
 * runs the app itself (no re-executed child) and the PID watched for CPU and RSS is the registry's.
 */
function ourEnv(options: LaunchOptions): Record<string, string> {
  return {
    ...(mallocTuning(options.root).wantsMallocTuning(process.env, process.platform) ? mallocTuning(options.root).MALLOC_TUNING : {}),
    REGISTRY_STORAGE_DELETE_ENABLED: 'true',
    ...(options.logLevel ? { REGISTRY_LOG_LEVEL: options.logLevel } : {}),
  };
}

function logNote(options: LaunchOptions): string {
  return options.logLevel ? `log level ${options.logLevel}` : 'default logging (info: one JSON access-log line per request, to a file)';
}

async function startEmbedded(options: LaunchOptions): Promise<RegistryHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'ocireg-bench-embedded-'));
  const port = await freePort();
  const env = { ...ourEnv(options), REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, REGISTRY_DATA_DIR: join(dir, 'data') };
  const children = [spawnLogged('registry', process.execPath, appArgs('registry', options), env, dir, options.root)];
  const cleanup = async () => (options.keep ? undefined : rmSync(dir, { recursive: true, force: true }));
  return startWith('embedded', `http://127.0.0.1:${port}`, children, `ocireg embedded (one process: filesystem content, journal metadata, file sessions; default settings), ${logNote(options)}; data in ${dir}`, cleanup);
}

async function startDistributed(options: LaunchOptions): Promise<RegistryHandle> {
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'ocireg-bench-distributed-'));
  const database = `ocireg_bench_${id}`;
  const redisPrefix = `ocireg-bench-${id}:`;
  const env = {
    ...ourEnv(options),
    REGISTRY_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    REGISTRY_REDIS_KEYPREFIX: redisPrefix,
    REGISTRY_NATS_SUBJECT_PREFIX: `bench-${id}`,
    // As a deployment of several replicas sets it (the compose file and the Kubernetes Secret have it).
    REGISTRY_HTTP_SECRET: randomBytes(16).toString('hex'),
    REGISTRY_STORAGE: 'filesystem',
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'content'),
  };
  const children: Child[] = [];
  for (const service of ['blob-service', 'manifest-service', 'upload-service']) {
    children.push(spawnLogged(service, process.execPath, appArgs(service, options), env, dir, options.root));
  }
  const port = await freePort();
  children.push(spawnLogged('gateway', process.execPath, appArgs('gateway', options), { ...env, REGISTRY_HTTP_ADDR: `127.0.0.1:${port}` }, dir, options.root));
  const cleanup = async () => {
    if (options.keep) return;
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(database);
    deleteRedisKeys(redisPrefix);
  };
  return startWith(
    'distributed',
    `http://127.0.0.1:${port}`,
    children,
    `ocireg distributed (gateway + blob, manifest and upload services, 4 processes over NATS 127.0.0.1:4222, Postgres database ${database}, Redis prefix ${redisPrefix}, filesystem content, REGISTRY_HTTP_SECRET set), ${logNote(options)}; NATS, Postgres and Redis are not counted in CPU or memory`,
    cleanup,
  );
}

async function startDistribution(): Promise<RegistryHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'ocireg-bench-distribution-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);
  const children = [spawnLogged('docker-registry', '/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], {}, dir, dir)];
  let version = 'Distribution';
  try {
    version = execFileSync('/usr/bin/docker-registry', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // keep the generic name
  }
  const cleanup = async () => rmSync(dir, { recursive: true, force: true });
  return startWith(
    'distribution',
    `http://127.0.0.1:${port}`,
    children,
    `${version} (filesystem storage, in-memory blob descriptor cache as registry:2 ships, log level error, access log off, no auth)`,
    cleanup,
  );
}

export async function startSide(spec: SideSpec, options: LaunchOptions): Promise<RegistryHandle> {
  switch (spec.kind) {
    case 'embedded':
      return startEmbedded(options);
    case 'distributed':
      return startDistributed(options);
    case 'distribution':
      return startDistribution();
    case 'url':
      return { label: spec.url, url: spec.url, processes: [], description: `registry at ${spec.url} (not started here: no CPU or memory figures)`, exited: () => undefined, stop: async () => undefined };
  }
}

async function dropDatabase(name: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ host: '127.0.0.1', user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } catch {
    // best effort
  } finally {
    await client.end().catch(() => undefined);
  }
}

function deleteRedisKeys(prefix: string): void {
  try {
    const keys = execFileSync('redis-cli', ['-h', '127.0.0.1', '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (let i = 0; i < keys.length; i += 500) execFileSync('redis-cli', ['-h', '127.0.0.1', 'DEL', ...keys.slice(i, i + 500)]);
  } catch {
    // best effort
  }
}
