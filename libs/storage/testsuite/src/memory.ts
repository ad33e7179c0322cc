import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemoryGrowth {
  /** Largest growth of the process RSS over its value at the start. */
  rss: number;
  /** Largest growth of live memory (V8 heap + buffers), garbage collected whenever it looked large. */
  live: number;
}

/** A full garbage collection, when the runtime lets us have one (it does on Node 20 through the V8 flag). */
function obtainGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void gc() : undefined;
  } catch {
    return undefined;
  }
}

const liveBytes = (): number => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};

/**
 * Runs `work` while sampling memory, every 10 ms and whenever `work` calls the `sample` it is given (on every
 * chunk produced or consumed, when an adapter holding data would show). Garbage is collected whenever live
 * memory has grown by more than `collectAbove`, so the live figure counts what is held, not what the collector
 * has yet to free.
 */
export async function measureGrowth<T>(
  work: (sample: () => void) => Promise<T>,
  collectAbove = 16 * 1024 * 1024,
): Promise<{ result: T; growth: MemoryGrowth }> {
  const gc = obtainGc();
  gc?.();
  const base = { rss: process.memoryUsage.rss(), live: liveBytes() };
  const peak = { ...base };
  const sample = (): void => {
    let live = liveBytes();
    if (gc && live - base.live > collectAbove) {
      gc();
      live = liveBytes();
    }
    peak.live = Math.max(peak.live, live);
    peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 10);
  try {
    const result = await work(sample);
    return { result, growth: { rss: peak.rss - base.rss, live: peak.live - base.live } };
  } finally {
    clearInterval(timer);
  }
}
