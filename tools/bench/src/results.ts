/** What a benchmark run produces, before and after aggregation (plain data: rendered by report.ts). */
import { median, ratio } from './stats';

export type Unit = 'MB/s' | 'req/s';
export type SideRole = 'ours' | 'reference';

/** RSS of one registry process during one scenario run, in KiB. */
export interface ProcessMemory {
  process: string;
  idleKiB: number;
  peakKiB: number;
}

export function growthKiB(m: ProcessMemory): number {
  return m.peakKiB - m.idleKiB;
}

/** One timed run of one scenario against one registry. */
export interface RoundResult {
  round: number;
  value: number;
  seconds: number;
  bytes?: number;
  requests?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** utime+stime of every registry process over the run, seconds; undefined when the PIDs are unknown. */
  cpuSeconds?: number;
  /** CPU of the load generator (this process) over the run, seconds. */
  clientCpuSeconds?: number;
  errors: number;
  firstError?: string;
  memory: ProcessMemory[];
}

export interface SideSummary {
  rounds: RoundResult[];
  /** Median throughput over the rounds that ran without error. */
  value: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Median registry CPU milliseconds per MB moved (throughput scenarios with byte counts). */
  cpuMsPerMB?: number;
  /** Median registry CPU microseconds per request (request scenarios). */
  cpuUsPerRequest?: number;
  /** The same for the load generator. */
  clientCpuMsPerMB?: number;
  clientCpuUsPerRequest?: number;
  errors: number;
  firstError?: string;
  /** Per process: the round with the largest growth over idle. */
  memory: ProcessMemory[];
}

export interface ScenarioSummary {
  name: string;
  unit: Unit;
  kind: 'throughput' | 'latency';
  ours?: SideSummary;
  reference?: SideSummary;
  /** median(ours) / median(reference). */
  ratio: number;
}

function optionalMedian(values: Array<number | undefined>): number | undefined {
  const present = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return present.length === 0 ? undefined : median(present);
}

/** Worst round per process: the one where RSS grew the most over idle. */
export function worstMemory(rounds: readonly RoundResult[]): ProcessMemory[] {
  const worst = new Map<string, ProcessMemory>();
  for (const round of rounds) {
    for (const m of round.memory) {
      const seen = worst.get(m.process);
      if (!seen || growthKiB(m) > growthKiB(seen)) worst.set(m.process, m);
    }
  }
  return [...worst.values()];
}

export function summarizeSide(rounds: readonly RoundResult[]): SideSummary {
  const clean = rounds.filter((r) => r.errors === 0);
  const errors = rounds.reduce((sum, r) => sum + r.errors, 0);
  const firstError = rounds.find((r) => r.firstError)?.firstError;
  const perMB = (cpu: number | undefined, r: RoundResult) => (cpu !== undefined && r.bytes ? (cpu * 1000) / (r.bytes / 1_000_000) : undefined);
  const perRequest = (cpu: number | undefined, r: RoundResult) => (cpu !== undefined && r.requests && r.bytes === undefined ? (cpu * 1e6) / r.requests : undefined);
  return {
    rounds: [...rounds],
    value: median(clean.map((r) => r.value)),
    p50Ms: optionalMedian(clean.map((r) => r.p50Ms)),
    p99Ms: optionalMedian(clean.map((r) => r.p99Ms)),
    cpuMsPerMB: optionalMedian(clean.map((r) => perMB(r.cpuSeconds, r))),
    cpuUsPerRequest: optionalMedian(clean.map((r) => perRequest(r.cpuSeconds, r))),
    clientCpuMsPerMB: optionalMedian(clean.map((r) => perMB(r.clientCpuSeconds, r))),
    clientCpuUsPerRequest: optionalMedian(clean.map((r) => perRequest(r.clientCpuSeconds, r))),
    errors,
    ...(firstError ? { firstError } : {}),
    memory: worstMemory(rounds),
  };
}

export function summarizeScenario(
  name: string,
  unit: Unit,
  kind: 'throughput' | 'latency',
  ours: readonly RoundResult[] | undefined,
  reference: readonly RoundResult[] | undefined,
): ScenarioSummary {
  const o = ours && ours.length > 0 ? summarizeSide(ours) : undefined;
  const r = reference && reference.length > 0 ? summarizeSide(reference) : undefined;
  return { name, unit, kind, ours: o, reference: r, ratio: o && r ? ratio(o.value, r.value) : Number.NaN };
}
