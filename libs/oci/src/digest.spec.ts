import { digestOf, isDigest, parseDigest } from './digest';
import { isRepositoryName, isTag } from './names';

describe('digests', () => {
  const hex64 = 'a'.repeat(64);
  it.each([
    [`sha256:${hex64}`, 'sha256'],
    [`sha512:${'b'.repeat(128)}`, 'sha512'],
  ])('accepts %s', (value, algorithm) => {
    expect(parseDigest(value)).toEqual({ algorithm, hex: value.split(':')[1], digest: value });
  });

  it.each([
    ['no colon', 'sha256'],
    ['short hex', 'sha256:abc'],
    ['uppercase hex', `sha256:${'A'.repeat(64)}`],
    ['sha512 length with sha256', `sha256:${'a'.repeat(128)}`],
    ['empty', ''],
    ['bad algorithm chars', `SHA256:${hex64}`],
  ])('calls %s malformed', (_label, value) => {
    expect(parseDigest(value)).toBe('malformed');
  });

  it('calls a well-formed digest of an unknown algorithm unsupported', () => {
    expect(parseDigest('md5:d41d8cd98f00b204e9800998ecf8427e')).toBe('unsupported');
    expect(parseDigest('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8')).toBe('unsupported');
  });

  it('computes digests that parse', () => {
    expect(digestOf('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(isDigest(digestOf('x', 'sha512'))).toBe(true);
  });
});

describe('names and tags', () => {
  it.each(['library/ubuntu', 'a', 'a/b/c', 'my-app', 'my__app', 'a.b_c-d', 'x'.repeat(255)])('accepts the name %s', (name) => {
    expect(isRepositoryName(name)).toBe(true);
  });
  it.each(['', 'UPPER', 'a//b', '/a', 'a/', '-a', 'a-', 'a___b', 'a..b', 'x'.repeat(256), 'a/../b'])('refuses the name %s', (name) => {
    expect(isRepositoryName(name)).toBe(false);
  });
  it.each(['latest', 'v1.0.0', '_x', 'A-b.c_d', 'x'.repeat(128)])('accepts the tag %s', (tag) => {
    expect(isTag(tag)).toBe(true);
  });
  it.each(['', '-x', '.x', 'a/b', 'x'.repeat(129), 'sha256:abc'])('refuses the tag %s', (tag) => {
    expect(isTag(tag)).toBe(false);
  });
});
