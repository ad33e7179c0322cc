import type { Page } from '@ocireg/metadata';

/**
 * Compares two strings in the byte order of their UTF-8 encoding (Postgres `COLLATE "C"`), which is code point
 * order. JavaScript's `<` compares UTF-16 code units, which differs only where a surrogate (U+D800–DFFF) meets
 * a unit at or above U+E000: those are remapped so that surrogates (code points above U+FFFF) sort last.
 */
export function compareBytes(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Sorts a copy in byte order. */
export function sortedBytes(values: Iterable<string>): string[] {
  return [...values].sort(compareBytes);
}

/** The index of the first element strictly after `last` in a byte-ordered array. */
function firstAfter<T>(sorted: readonly T[], last: string, key: (item: T) => string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareBytes(key(sorted[middle] as T), last) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** One page of a byte-ordered array: the elements after `last`, at most `n` (all when undefined). */
export function pageOf<T>(sorted: readonly T[], page: Page, key: (item: T) => string): T[] {
  const start = page.last === undefined ? 0 : firstAfter(sorted, page.last, key);
  const end = page.n === undefined ? sorted.length : start + Math.max(0, page.n);
  return sorted.slice(start, end);
}

export const identity = (value: string): string => value;
