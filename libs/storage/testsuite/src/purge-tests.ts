import { setTimeout as sleep } from 'node:timers/promises';
import { appendSlices, completeAndCheck, expectInvisible, persisted } from './append-tests';
import type { ContractContext } from './context';
import { expectBytes } from './object-tests';
import { MiB, collect, fromBuffer, pattern } from './streams';

/**
 * Cutoffs well clear of what a test wrote, without sleeping: file and object times can run slightly ahead of
 * Date.now(), and S3 listing times are whole seconds.
 */
const afterEverything = (): Date => new Date(Date.now() + 10_000);
const beforeEverything = (): Date => new Date(Date.now() - 60_000);

export function definePurgeTests(ctx: ContractContext): void {
  describe('purgeUnfinished', () => {
    it('returns 0 when there is nothing to purge', async () => {
      await expect(ctx.store.purgeUnfinished(afterEverything())).resolves.toBe(0);
      await expect(ctx.store.purgeUnfinished(beforeEverything())).resolves.toBe(0);
    });

    it('rejects an invalid cutoff', async () => {
      await expect((async () => ctx.store.purgeUnfinished(new Date(Number.NaN)))()).rejects.toThrow();
    });

    it('removes an abandoned append, counts it, and leaves no internal data behind', async () => {
      const key = ctx.key('purge/abandoned');
      const state = await appendSlices(ctx, key, pattern(1000, 50), [1000]);
      await expect(ctx.store.purgeUnfinished(afterEverything())).resolves.toBe(1);
      await expect(ctx.store.purgeUnfinished(afterEverything())).resolves.toBe(0);
      await expect(ctx.store.completeAppend(key, state)).rejects.toThrow();
      await expectInvisible(ctx, key);
      await ctx.assertNothingLeft();
    });

    it('removes every piece of an abandoned append that filled parts over several appends', async () => {
      const key = ctx.key('purge/abandoned-large');
      const state = await appendSlices(ctx, key, pattern(7 * MiB + 5, 51), [MiB, 6 * MiB, 5]);
      await expect(ctx.store.purgeUnfinished(afterEverything())).resolves.toBeGreaterThanOrEqual(1);
      await expect(ctx.store.purgeUnfinished(afterEverything())).resolves.toBe(0);
      await expect(ctx.store.completeAppend(key, state)).rejects.toThrow();
      await expectInvisible(ctx, key);
      await ctx.assertNothingLeft();
    });

    it('removes an append that was started and never written to', async () => {
      const key = ctx.key('purge/started');
      persisted(await ctx.store.startAppend(key));
      await expect(ctx.store.purgeUnfinished(afterEverything())).resolves.toBeLessThanOrEqual(1);
      await expectInvisible(ctx, key);
      await ctx.assertNothingLeft();
    });

    it('keeps an append written after the cutoff, which then completes with the right bytes', async () => {
      const key = ctx.key('purge/active');
      const data = pattern(7 * MiB + 3, 52);
      let state = await appendSlices(ctx, key, data, [MiB, 6 * MiB]);
      await expect(ctx.store.purgeUnfinished(beforeEverything())).resolves.toBe(0);
      state = await appendSlices(ctx, key, data, [3], state);
      await expect(ctx.store.purgeUnfinished(beforeEverything())).resolves.toBe(0);
      await completeAndCheck(ctx, key, state, data);
    });

    it('removes only the appends last written before the cutoff', async () => {
      const [idle, resumed, fresh] = ['idle', 'resumed', 'fresh'].map((name) => ctx.key(`purge/${name}`));
      const data = pattern(3000, 53);
      const idleState = await appendSlices(ctx, idle, data, [1000]);
      let resumedState = await appendSlices(ctx, resumed, data, [1000]);
      // The one test that must let time pass: more than the margin of times slightly ahead and whole seconds.
      await sleep(2500);
      const cutoff = new Date(Date.now() - 500);
      resumedState = await appendSlices(ctx, resumed, data, [2000], resumedState);
      const freshState = await appendSlices(ctx, fresh, data, [3000]);
      await expect(ctx.store.purgeUnfinished(cutoff)).resolves.toBeGreaterThanOrEqual(1);
      await expect(ctx.store.completeAppend(idle, idleState)).rejects.toThrow();
      await completeAndCheck(ctx, resumed, resumedState, data);
      await completeAndCheck(ctx, fresh, freshState, data);
    }, 30_000);

    it('never removes complete objects, however old', async () => {
      const [written, appended] = [ctx.key('purge/complete/written'), ctx.key('purge/complete/appended')];
      const [writtenData, appendedData] = [pattern(6 * MiB, 54), pattern(6 * MiB + 1, 55)];
      await ctx.store.write(written, fromBuffer(writtenData));
      const state = await ctx.store.append(appended, await ctx.store.startAppend(appended), fromBuffer(appendedData));
      await ctx.store.completeAppend(appended, state);
      await expect(ctx.store.purgeUnfinished(afterEverything())).resolves.toBe(0);
      await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([appended, written]);
      await expectBytes(await ctx.store.read(written), writtenData);
      await expectBytes(await ctx.store.read(appended), appendedData);
      await ctx.store.delete(written);
      await ctx.store.delete(appended);
    });
  });
}
