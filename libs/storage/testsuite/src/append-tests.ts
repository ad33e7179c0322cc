import type { AppendState } from '@ocireg/storage';
import { ContentNotFoundError } from '@ocireg/storage';
import type { ContractContext } from './context';
import { expectBytes } from './object-tests';
import { MiB, collect, failingAfter, fromBuffer, pattern } from './streams';

/** The state crosses process boundaries as JSON between calls: make sure nothing else survives. */
export function persisted(state: AppendState): AppendState {
  return JSON.parse(JSON.stringify(state)) as AppendState;
}

/** Appends `sizes` consecutive slices of `data` (one call each), checking the state and invisibility as it goes. */
export async function appendSlices(ctx: ContractContext, key: string, data: Buffer, sizes: number[], from?: AppendState) {
  let state = persisted(from ?? (await ctx.store.startAppend(key)));
  for (const size of sizes) {
    const offset = state.size;
    state = persisted(await ctx.store.append(key, state, fromBuffer(data.subarray(offset, offset + size))));
    expect(state.size).toBe(offset + size);
    await expectInvisible(ctx, key);
  }
  return state;
}

export async function expectInvisible(ctx: ContractContext, key: string): Promise<void> {
  await expect(ctx.store.stat(key)).resolves.toBeUndefined();
  await expect(ctx.store.read(key)).rejects.toBeInstanceOf(ContentNotFoundError);
  await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([]);
  await expect(collect(ctx.store.list(''))).resolves.toEqual([]);
}

export async function completeAndCheck(ctx: ContractContext, key: string, state: AppendState, expected: Buffer): Promise<void> {
  await expect(ctx.store.completeAppend(key, state)).resolves.toEqual({ key, size: expected.length });
  await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: expected.length });
  await expectBytes(await ctx.store.read(key), expected);
  await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([key]);
  await ctx.store.delete(key);
}

export function defineAppendTests(ctx: ContractContext): void {
  describe('appends', () => {
    it('starts at size 0', async () => {
      const key = ctx.key('upload');
      const state = await ctx.store.startAppend(key);
      expect(state.size).toBe(0);
      await expectInvisible(ctx, key);
      await ctx.store.abortAppend(key, state);
    });

    it('appends chunks below, equal to and above the part size across calls', async () => {
      const key = ctx.key('chunks/upload');
      const sizes = [MiB, 5 * MiB, 7 * MiB, MiB, 3, 5 * MiB];
      const data = pattern(sizes.reduce((a, b) => a + b, 0), 21);
      const state = await appendSlices(ctx, key, data, sizes);
      await completeAndCheck(ctx, key, state, data);
    });

    it('appends exactly part-sized chunks', async () => {
      const key = ctx.key('exact');
      const data = pattern(10 * MiB, 22);
      await completeAndCheck(ctx, key, await appendSlices(ctx, key, data, [5 * MiB, 5 * MiB]), data);
    });

    it('appends small chunks that never fill a part', async () => {
      const key = ctx.key('small');
      const data = pattern(300, 23);
      await completeAndCheck(ctx, key, await appendSlices(ctx, key, data, [100, 0, 200]), data);
    });

    it('an empty body leaves the state size unchanged', async () => {
      const key = ctx.key('noop');
      const data = pattern(6 * MiB, 24);
      await completeAndCheck(ctx, key, await appendSlices(ctx, key, data, [0, 6 * MiB, 0]), data);
    });

    it('completes an append of 0 bytes as an empty object', async () => {
      const key = ctx.key('nothing');
      const state = persisted(await ctx.store.startAppend(key));
      await completeAndCheck(ctx, key, state, Buffer.alloc(0));
    });

    it('resumes from the saved state after failed appends and gets exactly the right bytes', async () => {
      const key = ctx.key('resume');
      const data = pattern(9 * MiB, 25);
      const garbage = pattern(8 * MiB, 99);
      let state = await appendSlices(ctx, key, data, [3 * MiB]);
      await expect(ctx.store.append(key, state, failingAfter(garbage, 6 * MiB))).rejects.toThrow();
      await expectInvisible(ctx, key);
      state = await appendSlices(ctx, key, data, [4 * MiB], state);
      await expect(ctx.store.append(key, state, failingAfter(garbage, MiB))).rejects.toThrow();
      await expect(ctx.store.append(key, state, failingAfter(garbage, 7 * MiB))).rejects.toThrow();
      state = await appendSlices(ctx, key, data, [2 * MiB], state);
      await completeAndCheck(ctx, key, state, data);
    });

    it('recovers when the very first append fails', async () => {
      const key = ctx.key('first-fails');
      const data = pattern(MiB + 17, 26);
      const start = persisted(await ctx.store.startAppend(key));
      await expect(ctx.store.append(key, start, failingAfter(pattern(8 * MiB, 98), 6 * MiB))).rejects.toThrow();
      await completeAndCheck(ctx, key, await appendSlices(ctx, key, data, [data.length], start), data);
    });

    it('retrying a completion that already succeeded returns the same object', async () => {
      for (const sizes of [[1000], [5 * MiB, MiB]]) {
        const key = ctx.key(`complete-twice-${sizes.length}`);
        const data = pattern(sizes.reduce((a, b) => a + b, 0), 27);
        const state = await appendSlices(ctx, key, data, sizes);
        await expect(ctx.store.completeAppend(key, state)).resolves.toEqual({ key, size: data.length });
        await completeAndCheck(ctx, key, state, data);
      }
    });

    it('keeps unrelated appends apart', async () => {
      const [a, b] = [ctx.key('pair/a'), ctx.key('pair/b')];
      const [dataA, dataB] = [pattern(6 * MiB, 28), pattern(2 * MiB, 29)];
      const [stateA, stateB] = await Promise.all([
        appendSlices(ctx, a, dataA, [2 * MiB, 4 * MiB]),
        ctx.store.startAppend(b).then((s) => ctx.store.append(b, s, fromBuffer(dataB))),
      ]);
      await ctx.store.completeAppend(b, stateB);
      await expectBytes(await ctx.store.read(b), dataB);
      await ctx.store.delete(b);
      await completeAndCheck(ctx, a, stateA, dataA);
    });
  });

  describe('completeAppend with a last chunk', () => {
    /** Completes `state` with `last` in one call and checks the object is everything appended and then `last`. */
    async function completeWith(key: string, state: AppendState, appended: Buffer, last: Buffer): Promise<void> {
      const expected = Buffer.concat([appended, last]);
      await expect(ctx.store.completeAppend(key, persisted(state), fromBuffer(last))).resolves.toEqual({ key, size: expected.length });
      await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: expected.length });
      await expectBytes(await ctx.store.read(key), expected);
      await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([key]);
      await ctx.store.delete(key);
    }

    it('writes a whole object from a fresh start: below, at and above the part size', async () => {
      for (const size of [1000, 5 * MiB, 11 * MiB + 5]) {
        const key = ctx.key(`one-step-${size}`);
        await completeWith(key, await ctx.store.startAppend(key), Buffer.alloc(0), pattern(size, 40));
      }
    });

    it('ends appends that left a partial part, whole parts, or nothing', async () => {
      for (const [sizes, last] of [[[3 * MiB], 4 * MiB], [[5 * MiB], 100], [[5 * MiB, 2 * MiB], 6 * MiB], [[0], 1]] as const) {
        const key = ctx.key(`after-${sizes.join('-')}`);
        const data = pattern(sizes.reduce((a, b) => a + b, 0) + last, 41);
        const state = await appendSlices(ctx, key, data, [...sizes]);
        await completeWith(key, state, data.subarray(0, state.size), data.subarray(state.size));
      }
    });

    it('an empty last chunk completes what was appended', async () => {
      const key = ctx.key('empty-last');
      const data = pattern(2 * MiB + 3, 42);
      await completeWith(key, await appendSlices(ctx, key, data, [data.length]), data, Buffer.alloc(0));
    });

    it('a last chunk that fails leaves nothing visible, and the append goes on from its state', async () => {
      for (const sizes of [[], [MiB], [5 * MiB]]) {
        const key = ctx.key(`last-fails-${sizes.length}-${sizes[0] ?? 0}`);
        const data = pattern(7 * MiB, 43);
        const state = await appendSlices(ctx, key, data, sizes);
        await expect(ctx.store.completeAppend(key, persisted(state), failingAfter(pattern(8 * MiB, 97), 6 * MiB))).rejects.toThrow();
        await expectInvisible(ctx, key);
        await completeWith(key, state, data.subarray(0, state.size), data.subarray(state.size));
      }
    });
  });

  describe('abortAppend', () => {
    it('discards everything an append stored', async () => {
      const key = ctx.key('aborted');
      const data = pattern(13 * MiB, 30);
      const state = await appendSlices(ctx, key, data, [MiB, 7 * MiB, 5 * MiB]);
      await ctx.store.abortAppend(key, state);
      await expectInvisible(ctx, key);
    });

    it('discards an append that never received bytes, or whose last append failed', async () => {
      const key = ctx.key('aborted-early');
      await ctx.store.abortAppend(key, persisted(await ctx.store.startAppend(key)));
      const state = await appendSlices(ctx, key, pattern(2 * MiB, 31), [2 * MiB]);
      await expect(ctx.store.append(key, state, failingAfter(pattern(8 * MiB, 32), 7 * MiB))).rejects.toThrow();
      await ctx.store.abortAppend(key, state);
      await expectInvisible(ctx, key);
    });

    it('a later append of the same key starts afresh', async () => {
      const key = ctx.key('restart');
      await ctx.store.abortAppend(key, await appendSlices(ctx, key, pattern(MiB, 33), [MiB]));
      const data = pattern(1000, 34);
      await completeAndCheck(ctx, key, await appendSlices(ctx, key, data, [1000]), data);
    });
  });
}
