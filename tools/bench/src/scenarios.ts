/** The scenarios: what is prepared outside the timing, what is timed, what is verified afterwards. */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BlobSpec, makeBlob } from './content';
import type { HttpClient } from './http';
import {
  getManifest,
  headBlob,
  headManifest,
  ImageRefs,
  imageManifest,
  listTags,
  pullBlob,
  pushBytes,
  pushChunked,
  pushMonolithic,
  putManifest,
  sha256,
} from './registry-ops';
import type { SideRole, Unit } from './results';
import { MiB } from './stats';

export interface Settings {
  sizes: number[];
  chunkSize: number;
  concurrency: number;
  durationMs: number;
  pushers: number;
  blobsPerPusher: number;
  pusherBlobSize: number;
  memoryBlobSize: number;
  /** Bytes moved per throughput run and size (at least minIterations, at most maxIterations transfers). */
  byteBudget: number;
  minIterations: number;
  maxIterations: number;
  tagCount: number;
}

export interface Fixtures {
  repo: string;
  putRepo: string;
  pullRepo: string;
  refs: ImageRefs;
  manifest: { body: Buffer; digest: string };
  tags: string[];
  pullBlobs: Map<number, BlobSpec>;
  memoryBlob?: BlobSpec;
}

export interface SideContext {
  role: SideRole;
  client: HttpClient;
  fixtures: Fixtures;
}

export interface Measured {
  seconds: number;
  bytes?: number;
  requests?: number;
  latencies?: number[];
  errors: number;
  firstError?: string;
}

export interface Prepared {
  run(): Promise<Measured>;
  /** Checks after the timing (e.g. re-fetching what was pushed); returns the problems found. */
  verify?(): Promise<string[]>;
}

export interface Scenario {
  name: string;
  unit: Unit;
  kind: 'throughput' | 'latency';
  /** Wait for the registry to settle before the idle RSS is taken. */
  settleMs: number;
  prepare(side: SideContext, round: number): Promise<Prepared>;
}

export function sizeLabel(bytes: number): string {
  if (bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)}GiB`;
  if (bytes % MiB === 0) return `${bytes / MiB}MiB`;
  return `${Math.round(bytes / 1024)}KiB`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class ErrorCounter {
  errors = 0;
  firstError: string | undefined;
  add(error: unknown): void {
    this.errors++;
    this.firstError ??= message(error);
  }
}

/** Runs `transfer` sequentially once per item; bytes are counted only for transfers that passed their checks. */
async function sequentially<T>(items: readonly T[], transfer: (item: T) => Promise<number>): Promise<Measured> {
  const counter = new ErrorCounter();
  let bytes = 0;
  const t0 = performance.now();
  for (const item of items) {
    try {
      bytes += await transfer(item);
    } catch (error) {
      counter.add(error);
    }
  }
  return { seconds: (performance.now() - t0) / 1000, bytes, requests: items.length, errors: counter.errors, ...(counter.firstError ? { firstError: counter.firstError } : {}) };
}

/** `concurrency` workers repeat `op` until the duration is over; every latency is kept. */
export async function loadLoop(concurrency: number, durationMs: number, op: (worker: number, i: number) => Promise<void>): Promise<Measured> {
  const counter = new ErrorCounter();
  const latencies: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const start = performance.now();
      try {
        await op(w, i);
        latencies.push(performance.now() - start);
      } catch (error) {
        counter.add(error);
        if (counter.errors > 1000) return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return {
    seconds: (performance.now() - t0) / 1000,
    requests: latencies.length,
    latencies,
    errors: counter.errors,
    ...(counter.firstError ? { firstError: counter.firstError } : {}),
  };
}

function iterationsFor(size: number, s: Settings): number {
  return Math.max(s.minIterations, Math.min(s.maxIterations, Math.ceil(s.byteBudget / size)));
}

function freshBlobs(count: number, size: number, label: string): BlobSpec[] {
  return Array.from({ length: count }, (_, i) => makeBlob(size, `${label}-${i}`));
}

function pushScenario(size: number, mode: 'mono' | 'chunked', s: Settings): Scenario {
  const name = `push-${mode}-${sizeLabel(size)}`;
  return {
    name,
    unit: 'MB/s',
    kind: 'throughput',
    settleMs: 300,
    prepare: async (side, round) => {
      const blobs = freshBlobs(iterationsFor(size, s), size, `${side.role}-${name}-r${round}`);
      const repo = `bench/push-${mode}`;
      return {
        run: () =>
          sequentially(blobs, async (blob) => {
            if (mode === 'mono') await pushMonolithic(side.client, repo, blob);
            else await pushChunked(side.client, repo, blob, s.chunkSize);
            return blob.size;
          }),
        verify: () => verifyPulls(side.client, repo, [blobs[0], blobs[blobs.length - 1]]),
      };
    },
  };
}

async function verifyPulls(client: HttpClient, repo: string, blobs: Array<BlobSpec | undefined>): Promise<string[]> {
  const problems: string[] = [];
  for (const blob of blobs) {
    if (!blob) continue;
    await pullBlob(client, repo, blob).catch((error: unknown) => problems.push(`re-pull: ${message(error)}`));
  }
  return problems;
}

async function pullFixture(side: SideContext, size: number): Promise<BlobSpec> {
  let blob = side.fixtures.pullBlobs.get(size);
  if (!blob) {
    blob = makeBlob(size, `${side.role}-pull-${sizeLabel(size)}`);
    await pushMonolithic(side.client, side.fixtures.pullRepo, blob);
    side.fixtures.pullBlobs.set(size, blob);
  }
  return blob;
}

function pullScenario(size: number, s: Settings): Scenario {
  return {
    name: `pull-${sizeLabel(size)}`,
    unit: 'MB/s',
    kind: 'throughput',
    settleMs: 300,
    prepare: async (side) => {
      const blob = await pullFixture(side, size);
      const items = Array.from({ length: iterationsFor(size, s) }, () => blob);
      return { run: () => sequentially(items, (b) => pullBlob(side.client, side.fixtures.pullRepo, b)) };
    },
  };
}

function concurrentPushScenario(s: Settings): Scenario {
  return {
    name: 'push-concurrent',
    unit: 'MB/s',
    kind: 'throughput',
    settleMs: 300,
    prepare: async (side, round) => {
      const perPusher = Array.from({ length: s.pushers }, (_, p) => freshBlobs(s.blobsPerPusher, s.pusherBlobSize, `${side.role}-conc-r${round}-p${p}`));
      const repo = 'bench/push-concurrent';
      return {
        run: async () => {
          const t0 = performance.now();
          const parts = await Promise.all(
            perPusher.map((blobs, p) => sequentially(blobs, (blob) => pushMonolithic(side.client, `${repo}-${p % 4}`, blob).then(() => blob.size))),
          );
          const errors = parts.reduce((sum, m) => sum + m.errors, 0);
          const firstError = parts.find((m) => m.firstError)?.firstError;
          return {
            seconds: (performance.now() - t0) / 1000,
            bytes: parts.reduce((sum, m) => sum + (m.bytes ?? 0), 0),
            requests: s.pushers * s.blobsPerPusher,
            errors,
            ...(firstError ? { firstError } : {}),
          };
        },
        verify: () => verifyPulls(side.client, `${repo}-0`, [perPusher[0]?.[0]]),
      };
    },
  };
}

function manifestPutScenario(s: Settings): Scenario {
  return {
    name: 'manifest-put',
    unit: 'req/s',
    kind: 'latency',
    settleMs: 300,
    prepare: async (side, round) => {
      const sent: Array<{ digest: string; body: Buffer }> = [];
      const { putRepo, refs } = side.fixtures;
      const tag = (w: number, i: number) => `${side.role}-r${round}-w${w}-${i}`;
      return {
        run: () =>
          loadLoop(s.concurrency, s.durationMs, async (w, i) => {
            const body = imageManifest(refs, tag(w, i));
            const digest = sha256(body);
            await putManifest(side.client, putRepo, tag(w, i), body, digest);
            if (i % 16 === 0) sent.push({ digest, body });
          }),
        verify: async () => {
          const problems: string[] = [];
          const step = Math.max(1, Math.floor(sent.length / 50));
          for (let k = 0; k < sent.length; k += step) {
            const m = sent[k] as { digest: string; body: Buffer };
            await getManifest(side.client, putRepo, m.digest, m.body, m.digest).catch((error: unknown) => problems.push(`re-fetch: ${message(error)}`));
          }
          return problems;
        },
      };
    },
  };
}

function smallScenario(name: string, s: Settings, op: (side: SideContext) => (worker: number, i: number) => Promise<void>): Scenario {
  return {
    name,
    unit: 'req/s',
    kind: 'latency',
    settleMs: 300,
    prepare: async (side) => {
      const call = op(side);
      return { run: () => loadLoop(s.concurrency, s.durationMs, call) };
    },
  };
}

function memoryScenarios(s: Settings): Scenario[] {
  const label = sizeLabel(s.memoryBlobSize);
  const repo = 'bench/memory';
  const ensure = async (side: SideContext): Promise<BlobSpec> => {
    if (!side.fixtures.memoryBlob) {
      const blob = makeBlob(s.memoryBlobSize, `${side.role}-memory`);
      await pushMonolithic(side.client, repo, blob);
      side.fixtures.memoryBlob = blob;
    }
    return side.fixtures.memoryBlob;
  };
  return [
    {
      name: `memory-${label}-push`,
      unit: 'MB/s',
      kind: 'throughput',
      settleMs: 1000,
      prepare: async (side, round) => {
        const blob = makeBlob(s.memoryBlobSize, `${side.role}-memory-r${round}`);
        return {
          run: async () => {
            const m = await sequentially([blob], (b) => pushMonolithic(side.client, repo, b).then(() => b.size));
            if (m.errors === 0) side.fixtures.memoryBlob = blob;
            return m;
          },
        };
      },
    },
    {
      name: `memory-${label}-pull`,
      unit: 'MB/s',
      kind: 'throughput',
      settleMs: 1000,
      prepare: async (side) => {
        const blob = await ensure(side);
        return { run: () => sequentially([blob], (b) => pullBlob(side.client, repo, b)) };
      },
    },
  ];
}

export function allScenarios(s: Settings): Scenario[] {
  const get = (side: SideContext) => {
    const { repo, tags, manifest } = side.fixtures;
    return (_w: number, i: number) => getManifest(side.client, repo, tags[i % tags.length] as string, manifest.body, manifest.digest);
  };
  const head = (side: SideContext) => {
    const { repo, manifest } = side.fixtures;
    return () => headManifest(side.client, repo, manifest.digest, manifest.body.length);
  };
  const blobHead = (side: SideContext) => {
    const { repo, refs } = side.fixtures;
    return (_w: number, i: number) => headBlob(side.client, repo, i % 2 === 0 ? refs.layer : refs.config);
  };
  const tagsList = (side: SideContext) => {
    const { repo, tags } = side.fixtures;
    return () => listTags(side.client, repo, tags);
  };
  return [
    ...s.sizes.map((size) => pushScenario(size, 'mono', s)),
    ...s.sizes.map((size) => pushScenario(size, 'chunked', s)),
    ...s.sizes.map((size) => pullScenario(size, s)),
    concurrentPushScenario(s),
    manifestPutScenario(s),
    smallScenario('manifest-get-tag', s, get),
    smallScenario('manifest-head-digest', s, head),
    smallScenario('blob-head', s, blobHead),
    smallScenario('tags-list', s, tagsList),
    ...memoryScenarios(s),
  ];
}

/** Config, layer, and one manifest under `tagCount` tags in one repository; config and layer in the PUT repository. */
export async function setUpFixtures(client: HttpClient, role: SideRole, s: Settings): Promise<Fixtures> {
  const repo = 'bench/small';
  const putRepo = 'bench/put';
  const layerBytes = randomBytes(4096);
  const configBytes = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layerBytes)] }, config: {} }),
  );
  const refs: ImageRefs = { config: { digest: '', size: configBytes.length }, layer: { digest: '', size: layerBytes.length } };
  for (const r of [repo, putRepo]) {
    refs.config.digest = await pushBytes(client, r, configBytes);
    refs.layer.digest = await pushBytes(client, r, layerBytes);
  }
  const body = imageManifest(refs, `fixture ${role}`);
  const digest = sha256(body);
  const tags = ['latest', ...Array.from({ length: s.tagCount - 1 }, (_, i) => `v1.${i}`)];
  for (const tag of tags) await putManifest(client, repo, tag, body, digest);
  return { repo, putRepo, pullRepo: 'bench/pull', refs, manifest: { body, digest }, tags, pullBlobs: new Map() };
}
