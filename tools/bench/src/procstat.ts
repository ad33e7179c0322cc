/** CPU time and resident memory of registry processes, from Linux /proc. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface WatchedProcess {
  name: string;
  pid: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on Linux. */
const CLOCK_TICKS = 100;

/** utime + stime of a process (all its threads), in seconds; undefined once it has exited. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: the fields after it start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

export function totalCpuSeconds(processes: readonly WatchedProcess[]): number | undefined {
  if (processes.length === 0) return undefined;
  let total = 0;
  for (const p of processes) {
    const seconds = cpuSecondsOf(p.pid);
    if (seconds === undefined) return undefined;
    total += seconds;
  }
  return total;
}

export function rssKiBOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples VmRSS of every watched process every `intervalMs` in a worker thread (so that a busy load
 * generator does not delay the samples) and keeps the peak per process since the last reset.
 */
export class RssSampler {
  private readonly peaks: Int32Array;
  private readonly worker: Worker;

  constructor(
    readonly processes: readonly WatchedProcess[],
    intervalMs = 50,
  ) {
    this.peaks = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, processes.length)));
    this.worker = new Worker(join(__dirname, 'rss-worker.js'), {
      workerData: { pids: processes.map((p) => p.pid), peaks: this.peaks, intervalMs },
    });
    this.worker.unref();
  }

  /** Current RSS of each process, and the peaks start again from it. */
  reset(): Map<number, number> {
    const idle = new Map<number, number>();
    this.processes.forEach((p, i) => {
      const rss = rssKiBOf(p.pid) ?? 0;
      idle.set(p.pid, rss);
      Atomics.store(this.peaks, i, rss);
    });
    return idle;
  }

  peakOf(pid: number): number {
    const index = this.processes.findIndex((p) => p.pid === pid);
    const sampled = index < 0 ? 0 : Atomics.load(this.peaks, index);
    return Math.max(sampled, rssKiBOf(pid) ?? 0);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
