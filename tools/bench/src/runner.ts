/** Runs one scenario once against one registry, measuring its CPU and the RSS of each of its processes. */
import { execFile } from 'node:child_process';
import type { RegistryHandle } from './launch';
import { RssSampler, totalCpuSeconds } from './procstat';
import type { ProcessMemory, RoundResult } from './results';
import type { Scenario, SideContext } from './scenarios';
import { mbPerSecond, summarizeLatencies } from './stats';

export interface Side {
  context: SideContext;
  registry: RegistryHandle;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `sync`: the kernel writes every dirty page back (a no-op where there is no sync command). */
function flushPageCache(): Promise<void> {
  return new Promise((resolve) => execFile('sync', () => resolve()));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The sides in the order of a round: as given in even rounds, reversed in odd ones (A B, B A, A B ...). */
export function roundOrder<T>(sides: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...sides] : [...sides].reverse();
}

export async function runOnce(scenario: Scenario, side: Side, round: number, sampler: RssSampler | undefined): Promise<RoundResult> {
  const processes = side.registry.processes;
  let prepared;
  try {
    prepared = await scenario.prepare(side.context, round);
  } catch (error) {
    return { round, value: Number.NaN, seconds: 0, errors: 1, firstError: `preparing: ${message(error)}`, memory: [] };
  }
  // Whatever either registry left in the page cache unwritten is flushed now, outside the timing: otherwise the
  // kernel writes one registry's data back while the other is being timed (a registry that syncs its own
  // uploads, as ours does, pays for that inside its timing anyway).
  await flushPageCache();
  await sleep(scenario.settleMs);
  const idle = sampler?.reset();
  const cpuBefore = totalCpuSeconds(processes);
  const clientBefore = process.cpuUsage();
  const measured = await prepared.run();
  const client = process.cpuUsage(clientBefore);
  const cpuAfter = totalCpuSeconds(processes);
  const memory: ProcessMemory[] = sampler
    ? processes.map((p) => ({ process: p.name, idleKiB: idle?.get(p.pid) ?? 0, peakKiB: sampler.peakOf(p.pid) }))
    : [];
  const problems = prepared.verify ? await prepared.verify().catch((error: unknown) => [message(error)]) : [];
  const errors = measured.errors + problems.length;
  const firstError = measured.firstError ?? problems[0];
  const latency = measured.latencies ? summarizeLatencies(measured.latencies) : undefined;
  const value = scenario.unit === 'MB/s' ? mbPerSecond(measured.bytes ?? 0, measured.seconds) : (measured.requests ?? 0) / measured.seconds;
  return {
    round,
    value,
    seconds: measured.seconds,
    ...(measured.bytes !== undefined ? { bytes: measured.bytes } : {}),
    ...(measured.requests !== undefined ? { requests: measured.requests } : {}),
    ...(latency ? { p50Ms: latency.p50, p99Ms: latency.p99 } : {}),
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { cpuSeconds: cpuAfter - cpuBefore } : {}),
    clientCpuSeconds: (client.user + client.system) / 1e6,
    errors,
    ...(firstError ? { firstError } : {}),
    memory,
  };
}
