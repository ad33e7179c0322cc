/**
 * `npm run bench -- [options]`: drives a registry (ours embedded or distributed, started here, or any URL)
 * and a reference (Distribution, started here) through the same scenarios, alternating them round by round (A B, B A, ...),
 * and writes a Markdown report with the median ratio per scenario and the targets' verdicts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createClient } from './http';
import { mallocTuning, RegistryHandle, sideLabel, startSide } from './launch';
import { BenchOptions, parseOptions, selectScenarios, USAGE } from './options';
import { RssSampler } from './procstat';
import { renderReport, RunInfo } from './report';
import { RoundResult, ScenarioSummary, SideRole, summarizeScenario } from './results';
import { roundOrder, runOnce, Side } from './runner';
import { allScenarios, loadLoop, setUpFixtures } from './scenarios';
import { evaluateTargets } from './targets';
import { getManifest, headBlob, headManifest, imageManifest, listTags, pullBlob, pushBytes, putManifest, sha256 } from './registry-ops';

function workspaceRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'bin', 'ocireg.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the workspace root (bin/ocireg.js)');
    dir = parent;
  }
  return dir;
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function gitCommit(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${commit} (with uncommitted changes in apps/ or libs/)` : commit;
  } catch {
    return 'unknown';
  }
}

async function startSides(options: BenchOptions, root: string, started: RegistryHandle[]): Promise<Array<{ role: SideRole; registry: RegistryHandle }>> {
  const launch = {
    root,
    keep: options.keep,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.profileDir ? { profileDir: resolve(options.profileDir) } : {}),
  };
  const specs: Array<[SideRole, NonNullable<BenchOptions['baseline']>]> = [['ours', options.target]];
  if (options.baseline) specs.push(['reference', options.baseline]);
  const sides = [];
  for (const [role, spec] of specs) {
    log(`starting ${role}: ${sideLabel(spec)}`);
    const registry = await startSide(spec, role === 'ours' ? launch : { ...launch, profileDir: undefined });
    started.push(registry);
    log(`  ${registry.url}, processes ${registry.processes.map((p) => `${p.name}=${p.pid}`).join(' ') || 'unknown'}`);
    sides.push({ role, registry });
  }
  return sides;
}

/**
 * Before any timing, each registry serves 1 s each of pulls, small monolithic pushes and small reads (manifest
 * GET by tag and HEAD by digest, blob HEAD, tags list) and MANIFEST_WARM_UP_MS of manifest PUTs at the
 * scenarios' concurrency: a server runs for days, so neither registry's first timed round should pay for its
 * warm-up (a JIT compiler's, a cold cache, a connection pool's new connections, memory touched the first time).
 */
async function warmUp(side: Side, concurrency: number): Promise<void> {
  const { client, fixtures, role } = side.context;
  await loadLoop(8, 1000, (_w, i) => pullBlob(client, fixtures.repo, i % 2 === 0 ? fixtures.refs.layer : fixtures.refs.config).then(() => undefined));
  await loadLoop(4, 1000, () => pushBytes(client, fixtures.repo, randomBytes(WARM_UP_BLOB)).then(() => undefined));
  await loadLoop(concurrency, MANIFEST_WARM_UP_MS, (w, i) => {
    const tag = `${role}-warm-w${w}-${i}`;
    const body = imageManifest(fixtures.refs, tag);
    return putManifest(client, fixtures.putRepo, tag, body, sha256(body));
  });
  const { body, digest } = fixtures.manifest;
  const reads = [
    () => getManifest(client, fixtures.repo, 'latest', body, digest),
    () => headManifest(client, fixtures.repo, digest, body.length),
    () => headBlob(client, fixtures.repo, fixtures.refs.layer),
    () => listTags(client, fixtures.repo, fixtures.tags),
  ];
  await loadLoop(8, 1000, (_w, i) => (reads[i % reads.length] as () => Promise<void>)());
}

/**
 * Manifest PUTs of the warm-up. A distributed registry started afresh got faster for its first 15 s of them
 * (32 at a time, runs of 5 s against one cluster: 322, 443 and 507 req/s, then 575-670): every process's CPU
 * per PUT halved meanwhile, Postgres', NATS' and the load generator's too (1.5 -> 0.7 ms the gateway, 1.4 ->
 * 0.7-0.9 ms Postgres): the machine rather than one process (a guess: memory touched for the first time costs
 * a fault into the hypervisor here, see direct-io.ts). With 1 s of them, the first timed round ran at 55-75%
 * of the later ones.
 */
const MANIFEST_WARM_UP_MS = 10_000;

/** Bytes of each blob pushed during the warm-up. */
const WARM_UP_BLOB = 64 * 1024;

async function run(options: BenchOptions): Promise<void> {
  const root = workspaceRoot();
  const started: RegistryHandle[] = [];
  const stopAll = () => Promise.all(started.map((r) => r.stop().catch(() => undefined)));
  const onSignal = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let sampler: RssSampler | undefined;
  const results = new Map<string, Record<SideRole, RoundResult[]>>();
  const scenarios = selectScenarios(allScenarios(options.settings), options.scenarios, options.memory);
  const started0 = Date.now();
  // The registry was built from the tree as it is now (npm run bench builds first).
  const commit = gitCommit(root);
  try {
    const launched = await startSides(options, root, started);
    const sockets = Math.max(options.settings.concurrency, options.settings.pushers);
    const sides: Side[] = [];
    for (const { role, registry } of launched) {
      const client = createClient(registry.url, sockets, options.user, options.password);
      const fixtures = await setUpFixtures(client, role, options.settings);
      sides.push({ registry, context: { role, client, fixtures } });
    }
    sampler = new RssSampler(sides.flatMap((s) => s.registry.processes.filter((p) => p.pid > 0)));
    for (const side of sides) await warmUp(side, options.settings.concurrency);
    for (const scenario of scenarios) {
      const perSide: Record<SideRole, RoundResult[]> = { ours: [], reference: [] };
      results.set(scenario.name, perSide);
      for (let round = 0; round < options.rounds; round++) {
        // A B, then B A, then A B...: neither registry always runs right after the other (the same registry on
        // both sides measured differently depending on which went first).
        for (const side of roundOrder(sides, round)) {
          const result = await runOnce(scenario, side, round, sampler);
          for (const s of sides) {
            const gone = s.registry.exited();
            if (gone) throw new Error(`${s.context.role} registry stopped during ${scenario.name}: ${gone}`);
          }
          perSide[side.context.role].push(result);
          const latency = result.p50Ms !== undefined ? ` p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms?.toFixed(2)} ms` : '';
          const error = result.errors > 0 ? ` ERRORS ${result.errors}: ${result.firstError}` : '';
          log(`${scenario.name} round ${round + 1} ${side.context.role}: ${result.value.toFixed(1)} ${scenario.unit}${latency}${error}`);
        }
      }
    }
    const summaries: ScenarioSummary[] = scenarios.map((s) => {
      const r = results.get(s.name);
      return summarizeScenario(s.name, s.unit, s.kind, r?.ours, r?.reference);
    });
    const [ours, reference] = sides;
    const info: RunInfo = {
      date: new Date().toISOString(),
      commit,
      machine: `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, shared`,
      node: process.version,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      rounds: options.rounds,
      ours: { label: ours?.registry.label ?? 'ours', description: ours?.registry.description ?? '' },
      ...(reference ? { reference: { label: reference.registry.label, description: reference.registry.description } } : {}),
      notes: [
        `Push/pull: ${options.settings.sizes.map((s) => `${s / 2 ** 20} MiB`).join(', ')} blobs, at least ${options.settings.minIterations} and about ${options.settings.byteBudget / 2 ** 20} MiB per run, one transfer at a time; chunked pushes in ${options.settings.chunkSize / 2 ** 20} MiB PATCHes; every blob has unique content, digests computed before the timing.`,
        `push-concurrent: ${options.settings.pushers} pushers × ${options.settings.blobsPerPusher} monolithic pushes of ${options.settings.pusherBlobSize / 2 ** 20} MiB. Small requests: ${options.settings.concurrency} concurrent workers for ${options.settings.durationMs / 1000} s per run, keep-alive connections. Before the first round, each registry served 1 s each of pulls, 64 KiB pushes and small reads and ${MANIFEST_WARM_UP_MS / 1000} s of manifest PUTs (warm-up).`,
        'Checked on every response: status, Location, Docker-Content-Digest, Range of each PATCH, bytes of each pulled blob hashed and compared, manifests compared byte for byte; pushed blobs and manifests re-fetched after the timing.',
        `The load generator (this Node process, node:http keep-alive; pulled blobs of 4 MiB and more hashed on a worker thread) shares the ${cpus().length} CPUs with the registries. Total wall time ${((Date.now() - started0) / 60000).toFixed(1)} min.`,
      ],
    };
    const report = renderReport(info, summaries, evaluateTargets(summaries, options.targets));
    const out = resolve(root, options.out ?? join('bench', 'results', `${info.date.slice(0, 10)}-${sideLabel(options.target).replace(/[^a-z0-9]+/gi, '_')}-vs-${options.baseline ? sideLabel(options.baseline).replace(/[^a-z0-9]+/gi, '_') : 'none'}.md`));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, report);
    process.stdout.write(report);
    log(`report written to ${out}`);
  } finally {
    await sampler?.stop();
    log('stopping the registries');
    await stopAll();
  }
}

function main(): void {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof Error && error.message === USAGE ? 0 : 2);
  }
  run(options).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

// The load generator streams as much as the registries do: it runs with the same malloc settings as ours
// (bin/malloc-tuning.js), so that its own page faults do not add noise to either side.
const malloc = mallocTuning(workspaceRoot());
if (malloc.wantsMallocTuning(process.env, process.platform)) {
  malloc.runTuned(process.argv[1] ?? __filename, process.argv.slice(2), 'the bench');
} else {
  malloc.stopWithLauncher();
  main();
}
