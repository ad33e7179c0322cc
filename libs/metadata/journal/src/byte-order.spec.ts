import { compareBytes, pageOf, sortedBytes } from './byte-order';

const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('byte order', () => {
  it('orders strings as their UTF-8 bytes do (Postgres COLLATE "C"), astral characters included', () => {
    const values = ['a', 'B', 'b', '_', 'a-b', 'a.b', 'a/b', 'é', '\uE000', '\uFFFD', '😀', '😀a', 'z', '', 'ab', 'a\u0000'];
    expect(sortedBytes(values)).toEqual([...values].sort(byUtf8));
    // UTF-16 code units put the emoji (a surrogate pair) before U+E000; bytes put it after.
    expect(compareBytes('😀', '\uE000')).toBeGreaterThan(0);
    expect(compareBytes('a', 'a')).toBe(0);
  });

  it('pages after `last` (which need not be present), at most n', () => {
    const sorted = ['a', 'b', 'c', 'd'];
    expect(pageOf(sorted, {}, (v) => v)).toEqual(sorted);
    expect(pageOf(sorted, { n: 2 }, (v) => v)).toEqual(['a', 'b']);
    expect(pageOf(sorted, { last: 'b' }, (v) => v)).toEqual(['c', 'd']);
    expect(pageOf(sorted, { last: 'bb', n: 1 }, (v) => v)).toEqual(['c']);
    expect(pageOf(sorted, { last: 'd' }, (v) => v)).toEqual([]);
    expect(pageOf(sorted, { n: 0 }, (v) => v)).toEqual([]);
  });
});
