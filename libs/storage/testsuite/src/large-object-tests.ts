import { createHash } from 'node:crypto';
import type { ContractContext } from './context';
import { type MemoryGrowth, measureGrowth } from './memory';
import { MiB, generated, hashStream } from './streams';

const LARGE = 64 * MiB;
/** The process RSS must not grow by the object's size. */
const RSS_LIMIT = 64 * MiB;
/**
 * Live memory (garbage collected past 16 MiB of growth) must stay well below the object's size, so that an
 * adapter holding the whole object fails even when the RSS had room left from earlier tests. It leaves an
 * adapter about 24 MiB of buffers (the S3 spec's 5 MiB parts, the filesystem's none).
 */
const LIVE_LIMIT = 40 * MiB;
const TIMEOUT = 180_000;

/** Fails with both figures in the message when either grew past its limit. */
function expectBounded(growth: MemoryGrowth): void {
  const report = { rssMiB: growth.rss / MiB, rssLimitMiB: RSS_LIMIT / MiB, liveMiB: growth.live / MiB, liveLimitMiB: LIVE_LIMIT / MiB };
  expect({ ...report, bounded: growth.rss <= RSS_LIMIT && growth.live <= LIVE_LIMIT }).toEqual({ ...report, bounded: true });
}

export function defineLargeObjectTests(ctx: ContractContext): void {
  describe('large objects', () => {
    it('streams a 64 MiB object through write and read in constant memory', async () => {
      const key = ctx.key('large/written');
      const hash = createHash('sha256');
      const written = await measureGrowth((sample) => ctx.store.write(key, generated(LARGE, 41, hash, sample)));
      expect(written.result).toEqual({ key, size: LARGE });
      const read = await measureGrowth(async (sample) => hashStream(await ctx.store.read(key), sample));
      expect(read.result).toEqual({ sha256: hash.digest('hex'), size: LARGE });
      expectBounded(written.growth);
      expectBounded(read.growth);
      await ctx.store.delete(key);
    }, TIMEOUT);

    it('streams a 64 MiB object through appends in constant memory', async () => {
      const key = ctx.key('large/appended');
      const hash = createHash('sha256');
      const chunk = LARGE / 4 + 12345;
      const appended = await measureGrowth(async (sample) => {
        let state = await ctx.store.startAppend(key);
        for (let offset = 0, seed = 42; offset < LARGE; offset += chunk, seed += 1) {
          const size = Math.min(chunk, LARGE - offset);
          state = JSON.parse(JSON.stringify(await ctx.store.append(key, state, generated(size, seed, hash, sample))));
        }
        return ctx.store.completeAppend(key, state);
      });
      expect(appended.result).toEqual({ key, size: LARGE });
      await expect(hashStream(await ctx.store.read(key))).resolves.toEqual({ sha256: hash.digest('hex'), size: LARGE });
      expectBounded(appended.growth);
      await ctx.store.delete(key);
    }, TIMEOUT);
  });
}
