import { type Readable } from 'node:stream';
import { ContentNotFoundError } from '@ocireg/storage';
import type { ContractContext } from './context';
import { MiB, collect, failingAfter, fromBuffer, pattern, pausedAfter, readAll, sha256 } from './streams';

/** Compares a stream's bytes with the expected ones without dumping megabytes into a failure message. */
export async function expectBytes(stream: Readable, expected: Buffer): Promise<void> {
  const actual = await readAll(stream);
  expect({ size: actual.length, sha256: sha256(actual) }).toEqual({ size: expected.length, sha256: sha256(expected) });
}

const INVALID_KEYS = [
  '', '/absolute', 'trailing/', 'a//b', '..', '../escape', 'a/../b', '.', './a', 'a/./b', 'sp ace', 'back\\slash',
  'q?uery', 'h#ash', 'pct%2F', 'star*', 'x'.repeat(1025),
];

/** Rejects whether the adapter throws synchronously or returns a rejected promise. */
function attempt<T>(operation: () => Promise<T> | T): Promise<T> {
  return (async () => operation())();
}

export function defineObjectTests(ctx: ContractContext): void {
  describe('whole objects', () => {
    it('init is idempotent and keeps what is stored', async () => {
      const key = ctx.key('kept');
      await ctx.store.write(key, fromBuffer(pattern(10)));
      await ctx.store.init();
      await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: 10 });
      await ctx.store.delete(key);
    });

    it('writes, stats, reads and deletes an object', async () => {
      const data = pattern(300_000, 2);
      const key = ctx.key('a/b/object');
      await expect(ctx.store.write(key, fromBuffer(data))).resolves.toEqual({ key, size: data.length });
      await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: data.length });
      await expectBytes(await ctx.store.read(key), data);
      await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([key]);
      await ctx.store.delete(key);
      await expect(ctx.store.stat(key)).resolves.toBeUndefined();
      await expect(ctx.store.read(key)).rejects.toBeInstanceOf(ContentNotFoundError);
      await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([]);
    });

    it('writes an empty object', async () => {
      const key = ctx.key('empty');
      await expect(ctx.store.write(key, fromBuffer(Buffer.alloc(0)))).resolves.toEqual({ key, size: 0 });
      await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: 0 });
      await expectBytes(await ctx.store.read(key), Buffer.alloc(0));
      await ctx.store.delete(key);
    });

    it('writes an object from bytes in memory (and an empty one), replacing what the key held', async () => {
      const key = ctx.key('from-bytes');
      await ctx.store.write(key, fromBuffer(pattern(7000, 6)));
      const data = pattern(70_000, 5);
      await expect(ctx.store.write(key, data)).resolves.toEqual({ key, size: data.length });
      await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: data.length });
      await expectBytes(await ctx.store.read(key), data);
      await expect(ctx.store.write(key, Buffer.alloc(0))).resolves.toEqual({ key, size: 0 });
      await expectBytes(await ctx.store.read(key), Buffer.alloc(0));
      await ctx.store.delete(key);
    });

    it('overwrites an object with a new write', async () => {
      const key = ctx.key('twice');
      await ctx.store.write(key, fromBuffer(pattern(5000, 3)));
      const second = pattern(1234, 4);
      await expect(ctx.store.write(key, fromBuffer(second))).resolves.toEqual({ key, size: second.length });
      await expectBytes(await ctx.store.read(key), second);
      await ctx.store.delete(key);
    });

    it('writes several objects concurrently', async () => {
      const items = Array.from({ length: 8 }, (_, i) => ({ key: ctx.key(`parallel/${i}`), data: pattern(50_000 + i, 10 + i) }));
      await Promise.all(items.map((item) => ctx.store.write(item.key, fromBuffer(item.data))));
      for (const item of items) await expectBytes(await ctx.store.read(item.key), item.data);
      for (const item of items) await ctx.store.delete(item.key);
    });
  });

  describe('ranges', () => {
    const data = pattern(1000, 5);
    it.each([
      ['the first byte', 0, 0],
      ['a middle range', 10, 19],
      ['the last byte', 999, 999],
      ['the whole object', 0, 999],
    ])('reads %s', async (_label, start, end) => {
      const key = ctx.key('ranged');
      await ctx.store.write(key, fromBuffer(data));
      await expectBytes(await ctx.store.read(key, { start, end }), data.subarray(start, end + 1));
      await ctx.store.delete(key);
    });

    it('clamps a range ending past the object to its last byte', async () => {
      const key = ctx.key('ranged');
      await ctx.store.write(key, fromBuffer(data));
      await expectBytes(await ctx.store.read(key, { start: 990, end: 5000 }), data.subarray(990));
      await ctx.store.delete(key);
    });

    it('rejects ranges that are malformed or start past the end with a RangeError', async () => {
      const key = ctx.key('ranged');
      await ctx.store.write(key, fromBuffer(data));
      for (const range of [{ start: 1000, end: 1000 }, { start: 5, end: 4 }, { start: -1, end: 3 }, { start: 0.5, end: 3 }]) {
        await expect(attempt(() => ctx.store.read(key, range))).rejects.toBeInstanceOf(RangeError);
      }
      await ctx.store.delete(key);
    });

    it('reports an absent key as ContentNotFoundError even with a range', async () => {
      await expect(ctx.store.read(ctx.key('nothing'), { start: 0, end: 0 })).rejects.toBeInstanceOf(ContentNotFoundError);
    });
  });

  describe('absent keys', () => {
    it('read throws ContentNotFoundError carrying the key, stat is undefined, delete is a no-op', async () => {
      const key = ctx.key('absent/object');
      const error = await ctx.store.read(key).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ContentNotFoundError);
      expect((error as ContentNotFoundError).key).toBe(key);
      await expect(ctx.store.stat(key)).resolves.toBeUndefined();
      await expect(ctx.store.delete(key)).resolves.toBeUndefined();
      await expect(ctx.store.delete(key)).resolves.toBeUndefined();
    });

    it('a key that is only a prefix of other keys is absent', async () => {
      const key = ctx.key('dir/child');
      await ctx.store.write(key, fromBuffer(pattern(10)));
      await expect(ctx.store.stat(ctx.key('dir'))).resolves.toBeUndefined();
      await expect(ctx.store.read(ctx.key('dir'))).rejects.toBeInstanceOf(ContentNotFoundError);
      await ctx.store.delete(ctx.key('dir'));
      await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: 10 });
      await ctx.store.delete(key);
    });

    it('deleting one object leaves its neighbours', async () => {
      const [x, y] = [ctx.key('d/x'), ctx.key('d/y')];
      await ctx.store.write(x, fromBuffer(pattern(10)));
      await ctx.store.write(y, fromBuffer(pattern(20)));
      await ctx.store.delete(x);
      await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([y]);
      await expect(ctx.store.stat(y)).resolves.toEqual({ key: y, size: 20 });
      await ctx.store.delete(y);
    });
  });

  describe('list', () => {
    it('yields the complete objects under a prefix, at any depth, and nothing else', async () => {
      const names = ['one', 'dir/two', 'dir/sub/three', 'dirt', 'other/four'];
      const keys = names.map((name) => ctx.key(name));
      for (const key of keys) await ctx.store.write(key, fromBuffer(pattern(3)));
      await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([...keys].sort());
      await expect(collect(ctx.store.list(ctx.key('dir/')))).resolves.toEqual([ctx.key('dir/sub/three'), ctx.key('dir/two')]);
      await expect(collect(ctx.store.list(ctx.key('dir')))).resolves.toEqual(
        [ctx.key('dir/sub/three'), ctx.key('dir/two'), ctx.key('dirt')],
      );
      await expect(collect(ctx.store.list(ctx.key('nothing/')))).resolves.toEqual([]);
      await expect(collect(ctx.store.list(ctx.key('one')))).resolves.toEqual([ctx.key('one')]);
      const everything = await collect(ctx.store.list(''));
      expect(everything).toEqual(expect.arrayContaining(keys));
      for (const key of keys) await ctx.store.delete(key);
    });
  });

  describe('keys', () => {
    it.each(INVALID_KEYS.map((key) => [JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}...` : key), key]))(
      'rejects the invalid key %s in every operation',
      async (_label, key) => {
        const store = ctx.store;
        await expect(attempt(() => store.write(key, fromBuffer(pattern(10))))).rejects.toThrow();
        await expect(attempt(() => store.read(key))).rejects.toThrow();
        await expect(attempt(() => store.stat(key))).rejects.toThrow();
        await expect(attempt(() => store.delete(key))).rejects.toThrow();
        await expect(attempt(() => store.startAppend(key))).rejects.toThrow();
        await expect(attempt(() => store.completeAppend(key, { size: 0 }))).rejects.toThrow();
      },
    );

    it('rejects list prefixes that could escape the store', async () => {
      for (const prefix of ['../', '/', 'a//', '..']) {
        await expect(attempt(() => collect(ctx.store.list(prefix)))).rejects.toThrow();
      }
    });
  });

  describe('atomic writes', () => {
    it('a stream that fails midway leaves nothing visible', async () => {
      const key = ctx.key('atomic/new');
      const data = pattern(7 * MiB, 6);
      await expect(ctx.store.write(key, failingAfter(data, 6 * MiB))).rejects.toThrow();
      await expect(ctx.store.stat(key)).resolves.toBeUndefined();
      await expect(ctx.store.read(key)).rejects.toBeInstanceOf(ContentNotFoundError);
      await expect(collect(ctx.store.list(ctx.namespace))).resolves.toEqual([]);
    });

    it('a write in progress is invisible until it finishes', async () => {
      const key = ctx.key('atomic/slow');
      const data = pattern(7 * MiB, 9);
      const { stream, paused, resume } = pausedAfter(data.subarray(0, 6 * MiB), data.subarray(6 * MiB));
      const writing = ctx.store.write(key, stream);
      await paused;
      await expect(ctx.store.stat(key)).resolves.toBeUndefined();
      await expect(ctx.store.read(key)).rejects.toBeInstanceOf(ContentNotFoundError);
      await expect(collect(ctx.store.list(''))).resolves.toEqual([]);
      resume();
      await expect(writing).resolves.toEqual({ key, size: data.length });
      await expectBytes(await ctx.store.read(key), data);
      await ctx.store.delete(key);
    });

    it('a failed overwrite keeps the previous content intact', async () => {
      const key = ctx.key('atomic/old');
      const original = pattern(100_000, 7);
      await ctx.store.write(key, fromBuffer(original));
      await expect(ctx.store.write(key, failingAfter(pattern(MiB, 8), 512 * 1024))).rejects.toThrow();
      await expect(ctx.store.stat(key)).resolves.toEqual({ key, size: original.length });
      await expectBytes(await ctx.store.read(key), original);
      await ctx.store.delete(key);
    });
  });
}
