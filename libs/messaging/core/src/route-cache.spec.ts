import { RouteCache } from './route-cache';

describe('RouteCache', () => {
  it('computes the route of a pattern once, then answers from memory', () => {
    const cache = new RouteCache();
    const compute = jest.fn((pattern: string) => `route:${pattern}`);
    expect(cache.resolve('manifest.put', compute)).toBe('route:manifest.put');
    expect(cache.resolve('manifest.put', compute)).toBe('route:manifest.put');
    expect(cache.resolve('blob.stat', compute)).toBe('route:blob.stat');
    expect(compute.mock.calls).toEqual([['manifest.put'], ['blob.stat']]);
  });

  it('keeps at most `max` routes and still answers for the rest', () => {
    const cache = new RouteCache(2);
    const compute = jest.fn((pattern: string) => pattern.toUpperCase());
    for (const pattern of ['a', 'b', 'c', 'c']) expect(cache.resolve(pattern, compute)).toBe(pattern.toUpperCase());
    expect(compute).toHaveBeenCalledTimes(4); // 'c' was never kept
    cache.resolve('a', compute);
    expect(compute).toHaveBeenCalledTimes(4);
  });
});
