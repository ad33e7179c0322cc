import { createHash } from 'node:crypto';
import type { ContractContext } from './context';
import { MiB, generated, hashStream, peakRssGrowth } from './streams';

const LARGE = 64 * MiB;
const RSS_LIMIT = 64 * MiB;
const TIMEOUT = 180_000;

export function defineLargeObjectTests(ctx: ContractContext): void {
  describe('large objects', () => {
    it('streams a 64 MiB object through write and read in constant memory', async () => {
      const key = ctx.key('large/written');
      const hash = createHash('sha256');
      const written = await peakRssGrowth(() => ctx.store.write(key, generated(LARGE, 41, MiB, hash)));
      expect(written.result).toEqual({ key, size: LARGE });
      const expected = hash.digest('hex');
      const read = await peakRssGrowth(async () => hashStream(await ctx.store.read(key)));
      expect(read.result).toEqual({ sha256: expected, size: LARGE });
      expect({ writeGrowth: written.growth <= RSS_LIMIT, readGrowth: read.growth <= RSS_LIMIT }).toEqual({
        writeGrowth: true,
        readGrowth: true,
      });
      await ctx.store.delete(key);
    }, TIMEOUT);

    it('streams a 64 MiB object through appends in constant memory', async () => {
      const key = ctx.key('large/appended');
      const hash = createHash('sha256');
      const chunk = LARGE / 4 + 12345;
      const appended = await peakRssGrowth(async () => {
        let state = await ctx.store.startAppend(key);
        for (let offset = 0, seed = 42; offset < LARGE; offset += chunk, seed += 1) {
          const size = Math.min(chunk, LARGE - offset);
          state = JSON.parse(JSON.stringify(await ctx.store.append(key, state, generated(size, seed, MiB, hash))));
        }
        return ctx.store.completeAppend(key, state);
      });
      expect(appended.result).toEqual({ key, size: LARGE });
      await expect(hashStream(await ctx.store.read(key))).resolves.toEqual({ sha256: hash.digest('hex'), size: LARGE });
      expect(appended.growth).toBeLessThanOrEqual(RSS_LIMIT);
      await ctx.store.delete(key);
    }, TIMEOUT);
  });
}
