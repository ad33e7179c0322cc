/** Worker thread of RssSampler: raises each process's peak VmRSS (KiB) in shared memory every interval. */
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { pids, peaks, intervalMs } = workerData as { pids: number[]; peaks: Int32Array; intervalMs: number };
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

for (;;) {
  pids.forEach((pid, i) => {
    const rss = rssKiB(pid);
    let peak = Atomics.load(peaks, i);
    while (rss > peak) {
      const seen = Atomics.compareExchange(peaks, i, peak, rss);
      if (seen === peak) break;
      peak = seen;
    }
  });
  Atomics.wait(sleeper, 0, 0, intervalMs);
}
