import { RegistryError } from '@ocireg/errors';
import { parseRange } from './blobs.handler';
import { parseV2Path, routeKindOf } from './routes';

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as RegistryError).kind;
  }
  return 'none';
}

describe('parseV2Path', () => {
  it.each([
    ['/v2/', { kind: 'base' }],
    ['/v2', { kind: 'base' }],
    ['/v2/_catalog', { kind: 'catalog' }],
    ['/v2/a/b/tags/list', { kind: 'tags', name: 'a/b' }],
    ['/v2/a/manifests/latest', { kind: 'manifest', name: 'a', reference: 'latest' }],
    ['/v2/a/b/c/blobs/sha256:abc', { kind: 'blob', name: 'a/b/c', digest: 'sha256:abc' }],
    ['/v2/a/blobs/uploads/', { kind: 'uploads', name: 'a' }],
    ['/v2/a/blobs/uploads', { kind: 'uploads', name: 'a' }],
    ['/v2/a/blobs/uploads/1234-abcd', { kind: 'upload', name: 'a', id: '1234-abcd' }],
    ['/v2/a/referrers/sha256:abc', { kind: 'referrers', name: 'a', digest: 'sha256:abc' }],
    ['/v2/blobs/blobs/uploads/x', { kind: 'upload', name: 'blobs', id: 'x' }],
    ['/v2/manifests/manifests/tags/list', { kind: 'tags', name: 'manifests/manifests' }],
    ['/v2/a/manifests/sha256%3Aabc', { kind: 'manifest', name: 'a', reference: 'sha256:abc' }],
    ['/v2/a%2Fb/tags/list', { kind: 'tags', name: 'a/b' }],
  ])('parses %s', (path, route) => {
    expect(parseV2Path(path)).toEqual(route);
  });

  it.each([
    ['/v2/UPPER/manifests/x', 'NAME_INVALID'],
    ['/v2/a//b/manifests/x', 'NAME_INVALID'],
    ['/v2/a/nothing', 'ROUTE_UNKNOWN'],
    ['/v3/a/manifests/x', 'ROUTE_UNKNOWN'],
    ['/v2/%E0%A4%A/manifests/x', 'ROUTE_UNKNOWN'],
  ])('refuses %s with %s', (path, kind) => {
    expect(kindOf(() => parseV2Path(path))).toBe(kind);
  });
});

describe('routeKindOf', () => {
  it('names the route of a URL, its query ignored, however many URLs it has seen', () => {
    const cases: Array<[string, string]> = [
      ['/v2/a/manifests/latest?x=1', 'manifest'],
      ['/v2/a/blobs/uploads/', 'uploads'],
      ['/auth/token?service=r', 'token'],
      ['/v2/UPPER/tags/list', 'invalid'],
      ['/metrics', 'other'],
      ['/v2/', 'base'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [url, kind] of cases) expect(routeKindOf(url)).toBe(kind);
      // More distinct URLs than it remembers in between.
      for (let i = 0; i < 1500; i++) expect(routeKindOf(`/v2/r${round}/blobs/sha256:${i}`)).toBe('blob');
    }
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=95-200', { start: 95, end: 99 }],
    ['bytes=-500', { start: 0, end: 99 }],
  ])('reads %s of 100 bytes', (header, range) => {
    expect(parseRange(header, 100)).toEqual(range);
  });

  it.each(['bytes=100-', 'bytes=5-2', 'bytes=-0'])('refuses %s with 416', (header) => {
    expect(kindOf(() => parseRange(header, 100))).toBe('RANGE_NOT_SATISFIABLE');
  });

  it.each(['bytes=0-1,3-4', 'items=0-1', 'bytes=-', 'bytes=x-y'])('ignores %s (another unit, several ranges, malformed)', (header) => {
    expect(parseRange(header, 100)).toBeUndefined();
  });

  it('ignores an absent header', () => {
    expect(parseRange(undefined, 100)).toBeUndefined();
  });
});
