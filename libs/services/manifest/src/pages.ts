/** The first `n` of `n + 1` rows fetched, and whether there were more. */
export function pageOf<T>(rows: T[], n: number): { items: T[]; more: boolean } {
  return { items: rows.slice(0, n), more: rows.length > n };
}

/** The longest prefix of `items` whose JSON stays within `budget` bytes (at least one item). */
export function withinBytes<T>(items: T[], budget: number): T[] {
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    used += Buffer.byteLength(JSON.stringify(items[i])) + 1;
    if (used > budget && i > 0) return items.slice(0, i);
  }
  return items;
}
