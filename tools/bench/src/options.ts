/** Command-line options of `npm run bench -- [options]`. */
import { parseArgs } from 'node:util';
import type { SideSpec } from './launch';
import type { Settings } from './scenarios';
import { MiB } from './stats';
import type { TargetProfile } from './targets';

export interface BenchOptions {
  target: SideSpec;
  baseline?: SideSpec;
  rounds: number;
  scenarios?: string[];
  settings: Settings;
  memory: boolean;
  out?: string;
  quick: boolean;
  user?: string;
  password?: string;
  logLevel?: string;
  targets: TargetProfile;
  keep: boolean;
  profileDir?: string;
}

export const USAGE = `usage: npm run bench -- [options]
  --target <embedded|distributed|url:http://host:port>   registry under test (default embedded)
  --baseline <distribution|none|embedded|distributed|url:...>   reference (default distribution)
  --rounds N            rounds per scenario, the registries alternating A B, B A, A B ... (default 3)
  --scenarios a,b       only scenarios whose name starts with one of these (default all)
  --sizes 1,32,256      blob sizes in MiB (default 1,32,256)
  --chunk 8             chunk size of chunked pushes in MiB (default 8)
  --concurrency 32      workers of the small-request scenarios (default 32)
  --duration 5          seconds per small-request scenario run (default 5)
  --pushers 16          concurrent pushers (default 16), each pushing --pusher-blobs blobs of --pusher-size MiB
  --memory-size 1024    MiB of the memory scenario's blob (default 1024); --no-memory skips it
  --out file.md         report file (default bench/results/<date>-<target>-vs-<baseline>.md)
  --targets <embedded|distributed|none>   which targets to evaluate (default: from --target)
  --log-level <level>   REGISTRY_LOG_LEVEL of our processes (default: the registry's default, info)
  --user U --password P Basic auth for url targets
  --quick               tiny sizes, 1 round, 1 s per small-request scenario: a smoke test
  --keep                keep the registries' temporary directories
  --profile-dir DIR     run our processes with node --cpu-prof, profiles written to DIR when they stop
                        (summarize them with node dist/tools/bench/src/profile-summary.js DIR/*.cpuprofile)`;

export function parseSide(value: string): SideSpec {
  if (value === 'embedded' || value === 'distributed' || value === 'distribution') return { kind: value };
  if (value.startsWith('url:')) {
    const url = value.slice(4).replace(/\/+$/, '');
    new URL(url);
    return { kind: 'url', url };
  }
  throw new Error(`unknown registry "${value}": embedded, distributed, distribution or url:http://host:port`);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string' },
      baseline: { type: 'string' },
      rounds: { type: 'string' },
      scenarios: { type: 'string' },
      sizes: { type: 'string' },
      chunk: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      pushers: { type: 'string' },
      'pusher-blobs': { type: 'string' },
      'pusher-size': { type: 'string' },
      'memory-size': { type: 'string' },
      memory: { type: 'boolean' },
      'no-memory': { type: 'boolean' },
      out: { type: 'string' },
      targets: { type: 'string' },
      'log-level': { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      quick: { type: 'boolean' },
      keep: { type: 'boolean' },
      'profile-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new Error(USAGE);
  const quick = values.quick ?? false;
  const target = parseSide(values.target ?? 'embedded');
  const baseline = values.baseline === 'none' ? undefined : parseSide(values.baseline ?? 'distribution');
  const sizes = (values.sizes ?? (quick ? '1,4' : '1,32,256')).split(',').map((v) => positive('sizes', v.trim(), 1) * MiB);
  const targets = (values.targets ?? (target.kind === 'embedded' || target.kind === 'distributed' ? target.kind : 'none')) as TargetProfile;
  if (!['embedded', 'distributed', 'none'].includes(targets)) throw new Error(`--targets must be embedded, distributed or none`);
  const settings: Settings = {
    sizes,
    chunkSize: positive('chunk', values.chunk, quick ? 1 : 8) * MiB,
    concurrency: positive('concurrency', values.concurrency, 32),
    durationMs: positive('duration', values.duration, quick ? 1 : 5) * 1000,
    pushers: positive('pushers', values.pushers, 16),
    blobsPerPusher: positive('pusher-blobs', values['pusher-blobs'], quick ? 1 : 2),
    pusherBlobSize: positive('pusher-size', values['pusher-size'], quick ? 1 : 32) * MiB,
    memoryBlobSize: positive('memory-size', values['memory-size'], quick ? 64 : 1024) * MiB,
    byteBudget: (quick ? 16 : 512) * MiB,
    minIterations: quick ? 2 : 3,
    maxIterations: quick ? 10 : 200,
    tagCount: 20,
  };
  return {
    target,
    ...(baseline ? { baseline } : {}),
    rounds: Math.round(positive('rounds', values.rounds, quick ? 1 : 3)),
    ...(values.scenarios ? { scenarios: values.scenarios.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    settings,
    memory: !(values['no-memory'] ?? false) && (values.memory ?? true),
    ...(values.out ? { out: values.out } : {}),
    quick,
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.password !== undefined ? { password: values.password } : {}),
    ...(values['log-level'] ? { logLevel: values['log-level'] } : {}),
    targets,
    keep: values.keep ?? false,
    ...(values['profile-dir'] ? { profileDir: values['profile-dir'] } : {}),
  };
}

/** Scenario names kept by the --scenarios filter (prefix match) and --no-memory. */
export function selectScenarios<T extends { name: string }>(scenarios: readonly T[], filter: readonly string[] | undefined, memory: boolean): T[] {
  return scenarios.filter((s) => (memory || !s.name.startsWith('memory-')) && (!filter || filter.some((f) => s.name === f || s.name.startsWith(f))));
}
