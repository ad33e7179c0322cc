import { createHash } from 'node:crypto';
import { CpuProfile, packageOf, summarizeProfile } from './cpuprofile';
import { sha256Of, slices } from './content';
import { parseOptions, selectScenarios } from './options';
import { renderReport, RunInfo } from './report';
import { RoundResult, summarizeScenario, summarizeSide, worstMemory } from './results';
import { roundOrder } from './runner';
import { mbPerSecond, median, MiB, percentile, ratio, summarizeLatencies } from './stats';
import { evaluateTargets } from './targets';

function round(value: number, extra: Partial<RoundResult> = {}): RoundResult {
  return { round: 0, value, seconds: 1, errors: 0, memory: [], ...extra };
}

describe('statistics', () => {
  it('takes the median of odd and even counts, ignoring NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, Number.NaN, 7])).toBe(6);
    expect(median([])).toBeNaN();
  });

  it('computes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 1000], 99)).toBe(1000);
    expect(summarizeLatencies([2, 1, 3])).toEqual({ count: 3, p50: 2, p99: 3, max: 3 });
  });

  it('computes ratios and throughput', () => {
    expect(ratio(300, 100)).toBe(3);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 1)).toBeNaN();
    expect(mbPerSecond(10_000_000, 2)).toBe(5);
  });
});

describe('summaries', () => {
  it('takes medians over the rounds without errors, CPU per MB and per request', () => {
    const side = summarizeSide([
      round(100, { bytes: 100e6, cpuSeconds: 0.5, clientCpuSeconds: 0.2 }),
      round(300, { bytes: 100e6, cpuSeconds: 0.7, clientCpuSeconds: 0.4 }),
      round(1, { errors: 2, firstError: 'boom' }),
      round(200, { bytes: 100e6, cpuSeconds: 0.6, clientCpuSeconds: 0.3 }),
    ]);
    expect(side.value).toBe(200);
    expect(side.cpuMsPerMB).toBeCloseTo(6, 10);
    expect(side.clientCpuMsPerMB).toBeCloseTo(3, 10);
    expect(side.errors).toBe(2);
    expect(side.firstError).toBe('boom');
    const requests = summarizeSide([round(1000, { requests: 5000, cpuSeconds: 1, p50Ms: 2, p99Ms: 9 }), round(1200, { requests: 6000, cpuSeconds: 1.5, p50Ms: 4, p99Ms: 11 })]);
    expect(requests.cpuUsPerRequest).toBeCloseTo(225, 10);
    expect(requests.p50Ms).toBe(3);
    expect(requests.p99Ms).toBe(10);
  });

  it('keeps the round with the largest growth per process', () => {
    const memory = worstMemory([
      round(1, { memory: [{ process: 'gateway', idleKiB: 100, peakKiB: 150 }, { process: 'blob', idleKiB: 10, peakKiB: 11 }] }),
      round(1, { memory: [{ process: 'gateway', idleKiB: 200, peakKiB: 300 }, { process: 'blob', idleKiB: 10, peakKiB: 10 }] }),
    ]);
    expect(memory).toEqual([{ process: 'gateway', idleKiB: 200, peakKiB: 300 }, { process: 'blob', idleKiB: 10, peakKiB: 11 }]);
  });

  it('computes the ratio of the medians', () => {
    const s = summarizeScenario('blob-head', 'req/s', 'latency', [round(3000), round(4000), round(5000)], [round(900), round(1000), round(1100)]);
    expect(s.ratio).toBe(4);
    expect(summarizeScenario('blob-head', 'req/s', 'latency', [round(1)], undefined).ratio).toBeNaN();
  });
});

describe('targets', () => {
  const summaries = [
    summarizeScenario('push-mono-1MiB', 'MB/s', 'throughput', [round(500)], [round(200)]),
    summarizeScenario('push-chunked-1MiB', 'MB/s', 'throughput', [round(300)], [round(200)]),
    summarizeScenario('pull-32MiB', 'MB/s', 'throughput', [round(1100, { bytes: 1e9, cpuSeconds: 2 })], [round(1000, { bytes: 1e9, cpuSeconds: 1 })]),
    summarizeScenario('blob-head', 'req/s', 'latency', [round(4000, { p99Ms: 10 })], [round(1200, { p99Ms: 20 })]),
    summarizeScenario('tags-list', 'req/s', 'latency', [round(4000, { p99Ms: 30 })], [round(1200, { p99Ms: 20 })]),
    summarizeScenario('manifest-put', 'req/s', 'latency', [round(700, { errors: 1 })], [round(300)]),
    summarizeScenario('memory-1GiB-push', 'MB/s', 'throughput', [round(1, { memory: [{ process: 'gateway', idleKiB: 100_000, peakKiB: 100_000 + 40 * 1024 }] })], [round(1)]),
    summarizeScenario('memory-1GiB-pull', 'MB/s', 'throughput', [round(1, { memory: [{ process: 'gateway', idleKiB: 100_000, peakKiB: 100_000 + 10 * 1024 }] })], [round(1)]),
  ];

  it('evaluates the embedded targets', () => {
    const verdicts = Object.fromEntries(evaluateTargets(summaries, 'embedded').map((t) => [t.scenario, t.verdict]));
    expect(verdicts).toEqual({
      'push-mono-1MiB': 'PASS',
      'push-chunked-1MiB': 'MISS',
      'pull-32MiB': 'MISS',
      'blob-head': 'PASS',
      'tags-list': 'MISS',
      'manifest-put': 'MISS',
      'memory-1GiB-push': 'MISS',
      'memory-1GiB-pull': 'PASS',
    });
    const pull = evaluateTargets(summaries, 'embedded').find((t) => t.scenario === 'pull-32MiB');
    expect(pull?.figure).toBe('1.10× (1100 vs 1000 MB/s); CPU 2.00 vs 1.00 ms/MB');
  });

  it('evaluates the distributed targets at 1.5×', () => {
    const verdicts = Object.fromEntries(evaluateTargets(summaries, 'distributed').map((t) => [t.scenario, t.verdict]));
    expect(verdicts['push-chunked-1MiB']).toBe('PASS');
    expect(verdicts['pull-32MiB']).toBe('MISS');
    expect(verdicts['tags-list']).toBe('PASS');
    expect(evaluateTargets(summaries, 'none')).toEqual([]);
  });

  it('renders a report with the tables and the verdict counts', () => {
    const info: RunInfo = {
      date: '2025-01-01T00:00:00Z',
      commit: 'abc123',
      machine: '2 CPUs',
      node: 'v20',
      command: 'npm run bench',
      rounds: 1,
      ours: { label: 'embedded', description: 'one process' },
      reference: { label: 'distribution', description: 'Distribution' },
      notes: ['a note'],
    };
    const report = renderReport(info, summaries, evaluateTargets(summaries, 'embedded'));
    expect(report).toContain('# Benchmark: embedded vs distribution');
    expect(report).toContain('## Targets: 3 PASS, 5 MISS');
    expect(report).toContain('| push-mono-1MiB | MB/s | 500 | 200 | 2.50× | – | – |');
    expect(report).toContain('| blob-head | ≥ 3×, lower p99 | 3.33× (4000 vs 1200 req/s); p99 10.0 vs 20.0 ms | **PASS** |');
    expect(report).toContain('| memory-1GiB-push | 97.7 → 138 (+40.0) |');
    expect(report).toContain('| pull-32MiB | 2.00 | 1.00 | – | – |');
  });
});

describe('content', () => {
  const source = Buffer.from('abcdefghij');
  const blob = { size: 25, prefix: Buffer.from('PQR') };
  const whole = Buffer.from('PQRabcdefghijabcdefghijab');

  it('produces the prefix then the repeated pattern, for any range', () => {
    expect(Buffer.concat([...slices(blob, 0, 25, source)])).toEqual(whole);
    for (const [start, end] of [[0, 2], [2, 5], [7, 21], [13, 25], [24, 25]] as const) {
      expect(Buffer.concat([...slices(blob, start, end, source)])).toEqual(whole.subarray(start, end));
    }
    expect(sha256Of(slices(blob, 0, 25, source))).toBe(`sha256:${createHash('sha256').update(whole).digest('hex')}`);
  });
});

describe('options', () => {
  it('has the documented defaults', () => {
    const options = parseOptions([]);
    expect(options.target).toEqual({ kind: 'embedded' });
    expect(options.baseline).toEqual({ kind: 'distribution' });
    expect(options.rounds).toBe(3);
    expect(options.settings.sizes).toEqual([1 * MiB, 32 * MiB, 256 * MiB]);
    expect(options.settings.chunkSize).toBe(8 * MiB);
    expect(options.settings.concurrency).toBe(32);
    expect(options.settings.pushers).toBe(16);
    expect(options.settings.memoryBlobSize).toBe(1024 * MiB);
    expect(options.memory).toBe(true);
    expect(options.targets).toBe('embedded');
  });

  it('parses URL targets, no baseline, quick mode and filters', () => {
    const options = parseOptions(['--target', 'url:http://127.0.0.1:5000/', '--baseline', 'none', '--quick', '--no-memory', '--scenarios', 'pull,blob-head']);
    expect(options.target).toEqual({ kind: 'url', url: 'http://127.0.0.1:5000' });
    expect(options.baseline).toBeUndefined();
    expect(options.rounds).toBe(1);
    expect(options.targets).toBe('none');
    const names = ['push-mono-1MiB', 'pull-1MiB', 'pull-4MiB', 'blob-head', 'memory-1GiB-push'].map((name) => ({ name }));
    expect(selectScenarios(names, options.scenarios, options.memory).map((s) => s.name)).toEqual(['pull-1MiB', 'pull-4MiB', 'blob-head']);
    expect(selectScenarios(names, undefined, true)).toHaveLength(5);
    expect(() => parseOptions(['--target', 'nope'])).toThrow(/unknown registry/);
    expect(() => parseOptions(['--rounds', '0'])).toThrow(/positive/);
  });
});

describe('round order', () => {
  it('alternates which registry goes first, so that neither always runs right after the other', () => {
    const sides = ['ours', 'reference'];
    expect([0, 1, 2, 3].map((round) => roundOrder(sides, round).join(' '))).toEqual([
      'ours reference',
      'reference ours',
      'ours reference',
      'reference ours',
    ]);
    expect(sides).toEqual(['ours', 'reference']);
    expect(roundOrder(['only'], 1)).toEqual(['only']);
  });
});

describe('cpu profiles', () => {
  it('sums self and total time per function and per package', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 5] },
        { id: 2, callFrame: frame('handler', 'file:///w/dist/libs/a.js'), children: [3] },
        { id: 3, callFrame: frame('serialize', 'file:///w/node_modules/fastify/lib/reply.js'), children: [4] },
        { id: 4, callFrame: frame('write', 'node:internal/streams/writable') },
        { id: 5, callFrame: frame('(idle)') },
      ],
      samples: [3, 3, 4, 2, 5, 5],
      timeDeltas: [1000, 1000, 2000, 1000, 5000, 5000],
      startTime: 0,
      endTime: 15000,
    };
    const summary = summarizeProfile(profile);
    expect(summary.totalMs).toBe(15);
    expect(summary.busyMs).toBe(5);
    const handler = summary.byFunction.find((e) => e.key === 'handler libs/a.js:1');
    expect(handler).toEqual({ key: 'handler libs/a.js:1', selfMs: 1, totalMs: 5 });
    expect(summary.byPackage.find((e) => e.key === 'fastify')?.selfMs).toBe(2);
    expect(packageOf(frame('x', 'file:///w/node_modules/@nestjs/core/x.js'))).toBe('@nestjs/core');
    expect(packageOf(frame('write', 'node:internal/streams/writable'))).toBe('node:internal/streams');
  });
});
