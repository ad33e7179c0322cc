import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const WORKSPACE_ROOT = resolve(__dirname, '../../..');

/** Ports this process has handed out: the kernel may offer a released port again before its user binds it. */
const handedOut = new Set<number>();

/** A free TCP port on 127.0.0.1, never one already handed out by this process (two processes must not get the same). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolvePort, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const found = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolvePort(found));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface RegistryProcess {
  name: string;
  child: ChildProcess;
  output: () => string;
}

/** A plain-JavaScript module of the launcher (bin/<name>.js), loaded at run time. */
export function binModule<T>(name: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(WORKSPACE_ROOT, 'bin', `${name}.js`)) as T;
}

/** bin/malloc-tuning.js: the malloc settings the launcher and the image give every process. */
export function mallocTuning(): { MALLOC_TUNING: Record<string, string>; wantsMallocTuning(env: NodeJS.ProcessEnv, platform: string): boolean } {
  return binModule('malloc-tuning');
}

/**
 * Starts one built app (`node bin/ocireg.js <app>`) with the given environment, and the malloc settings in it as
 * the image has them: the launcher then runs the app itself, so `child` is the app's process (its PID, its RSS).
 */
export function startApp(app: string, env: Record<string, string>, label = app): RegistryProcess {
  let output = '';
  const tuning = mallocTuning();
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'bin', 'ocireg.js'), app], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, ...(tuning.wantsMallocTuning(process.env, process.platform) ? tuning.MALLOC_TUNING : {}), NO_COLOR: '1', REGISTRY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name: label, child, output: () => output };
}

export async function stopApp(proc: RegistryProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((done) => proc.child.once('exit', () => done()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Waits until GET <url>/v2/ answers 200, failing with the processes' output when one dies or time runs out. */
export async function waitForRegistry(
  url: string,
  procs: RegistryProcess[],
  timeoutMs = 60_000,
  tls: ClientTls = {},
  ok: readonly number[] = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with ${dead.child.exitCode}:\n${dead.output()}`);
    try {
      if (await servicesAnswer(url, tls, ok)) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`registry at ${url} did not start:\n${procs.map((p) => `--- ${p.name}\n${p.output()}`).join('\n')}`);
}

/** TLS material a test client uses to reach an HTTPS registry: the CA to trust, and a client certificate. */
export interface ClientTls {
  ca?: string;
  clientCert?: { cert: string; key: string };
}

/** Status of a request with node:http(s), so that a private CA and client certificates can be used. */
export function statusOf(url: string, method: string, tls: ClientTls = {}): Promise<number> {
  const target = new URL(url);
  const options = {
    method,
    ca: tls.ca ? readFileSync(tls.ca) : undefined,
    cert: tls.clientCert ? readFileSync(tls.clientCert.cert) : undefined,
    key: tls.clientCert ? readFileSync(tls.clientCert.key) : undefined,
  };
  return new Promise((resolveStatus, reject) => {
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, options, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * True when the gateway and every service behind it answer: the base endpoint (gateway), the catalog
 * (manifest service), a blob HEAD (blob service) and an upload status (upload service). With access control
 * on, an answer of 401 proves the gateway is up but not the services: such registries are probed with `ok`.
 */
async function servicesAnswer(url: string, tls: ClientTls, ok: readonly number[]): Promise<boolean> {
  const probes: Array<[string, string, number]> = [
    ['/v2/', 'GET', 200],
    ['/v2/_catalog', 'GET', 200],
    [`/v2/readiness/probe/blobs/sha256:${'0'.repeat(64)}`, 'HEAD', 404],
    ['/v2/readiness/probe/blobs/uploads/00000000-0000-4000-8000-000000000000', 'GET', 404],
  ];
  for (const [path, method, status] of probes) {
    const answer = await statusOf(`${url}${path}`, method, tls);
    if (answer !== status && !ok.includes(answer)) return false;
  }
  return true;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ocireg-${prefix}-`));
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Resident set size of a process in bytes (Linux /proc), or undefined once it has exited. */
export async function rssOf(pid: number): Promise<number | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
