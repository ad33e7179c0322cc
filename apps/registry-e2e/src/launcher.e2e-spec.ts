import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ROOT, binModule, freePort, mallocTuning, removeDir, tempDir, waitForRegistry, type RegistryProcess } from '@ocireg/testing';

const linux = process.platform === 'linux';
const { MALLOC_TUNING, wantsMallocTuning } = mallocTuning();
const { V8_TUNING, v8Flags } = binModule<{ V8_TUNING: string[]; v8Flags: (env: NodeJS.ProcessEnv) => string[] }>('v8-tuning');

/** `node bin/ocireg.js registry` as a user starts it: none of the malloc settings in its environment. */
async function launch(extraEnv: Record<string, string> = {}): Promise<{ proc: RegistryProcess; url: string; dir: string }> {
  const dir = tempDir('launcher');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', REGISTRY_LOG_LEVEL: 'warn', REGISTRY_DATA_DIR: join(dir, 'data'), REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, ...extraEnv };
  for (const name of Object.keys(MALLOC_TUNING)) if (!(name in extraEnv)) delete env[name];
  delete env['OCIREG_MALLOC_TUNING'];
  let output = '';
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, 'bin', 'ocireg.js'), 'registry'], { cwd: WORKSPACE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const proc = { name: 'registry', child, output: () => output };
  const url = `http://127.0.0.1:${port}`;
  await waitForRegistry(url, [proc]);
  return { proc, url, dir };
}

/** PIDs of the processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function environOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** Running (not gone, not a zombie waiting for its parent). */
function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function gone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(pid)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('wantsMallocTuning', () => {
  it('re-executes only on Linux, when the user set none of the settings and did not turn it off', () => {
    expect(wantsMallocTuning({}, 'linux')).toBe(true);
    expect(wantsMallocTuning({}, 'darwin')).toBe(false);
    expect(wantsMallocTuning({ MALLOC_TRIM_THRESHOLD_: '0' }, 'linux')).toBe(false);
    expect(wantsMallocTuning({ OCIREG_MALLOC_TUNING: 'off' }, 'linux')).toBe(false);
  });
});

describe('v8Flags', () => {
  it('turns incremental marking off, then adds the operator\'s OCIREG_V8_FLAGS, which come last and so win', () => {
    expect(V8_TUNING).toEqual(['--no-incremental-marking']);
    expect(v8Flags({})).toEqual(['--no-incremental-marking']);
    expect(v8Flags({ OCIREG_V8_FLAGS: ' --trace-gc  --incremental-marking ' })).toEqual(['--no-incremental-marking', '--trace-gc', '--incremental-marking']);
  });
});

describe('the launcher\'s V8 settings', () => {
  it('the app runs without incremental marking; OCIREG_V8_FLAGS can turn it back on', async () => {
    const trace = '--trace-gc --trace-incremental-marking';
    const startsOfMarking = async (flags: string) => {
      const { proc, dir } = await launch({ ...MALLOC_TUNING, OCIREG_V8_FLAGS: flags });
      try {
        const exited = new Promise((resolve) => proc.child.once('exit', resolve));
        proc.child.kill('SIGTERM');
        await exited;
        expect(proc.output()).toMatch(/Scavenge/); // the trace is on: the collector ran
        return proc.output().match(/\[IncrementalMarking\] Start/g)?.length ?? 0;
      } finally {
        removeDir(dir);
      }
    };
    expect(await startsOfMarking(trace)).toBe(0);
    // The control: starting the registry does start incremental marking when it is on.
    expect(await startsOfMarking(`${trace} --incremental-marking`)).toBeGreaterThan(0);
  }, 90_000);
});

(linux ? describe : describe.skip)('the launcher (bin/ocireg.js) and its malloc settings', () => {
  it('runs the app in a child that has the settings; SIGTERM reaches it and the exit code is the app’s', async () => {
    const { proc, url, dir } = await launch();
    try {
      const parent = proc.child.pid as number;
      const [app, ...others] = childrenOf(parent);
      expect(others).toEqual([]);
      expect(app).toBeDefined();
      const env = environOf(app as number);
      for (const [name, value] of Object.entries(MALLOC_TUNING)) expect(env[name]).toBe(value);
      expect((await fetch(`${url}/v2/`)).status).toBe(200);
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => proc.child.once('exit', (code, signal) => resolve({ code, signal })));
      proc.child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(await gone(app as number)).toBe(true);
    } finally {
      proc.child.kill('SIGKILL');
      removeDir(dir);
    }
  }, 90_000);

  it('the app stops when the launcher is killed outright (no orphan keeps the port)', async () => {
    const { proc, url, dir } = await launch();
    const [app] = childrenOf(proc.child.pid as number);
    try {
      expect(app).toBeDefined();
      proc.child.kill('SIGKILL');
      expect(await gone(app as number)).toBe(true);
      await expect(fetch(`${url}/v2/`)).rejects.toThrow();
    } finally {
      if (app !== undefined && !(await gone(app, 0))) process.kill(app, 'SIGKILL');
      removeDir(dir);
    }
  }, 90_000);

  it('a user’s own malloc setting is kept: no re-execution, the launcher is the app', async () => {
    const { proc, url, dir } = await launch({ MALLOC_TRIM_THRESHOLD_: '33554432' });
    try {
      expect(childrenOf(proc.child.pid as number)).toEqual([]);
      expect((await fetch(`${url}/v2/`)).status).toBe(200);
      expect(environOf(proc.child.pid as number)['MALLOC_MMAP_THRESHOLD_']).toBeUndefined();
    } finally {
      proc.child.kill('SIGTERM');
      removeDir(dir);
    }
  }, 90_000);
});
