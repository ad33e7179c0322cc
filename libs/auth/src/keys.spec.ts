import { calculateJwkThumbprint } from 'jose';
import { createPublicKey, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { keyPair } from '../test/pki';
import { ASYMMETRIC_ALGORITHMS, algorithmForKey, isSigningAlgorithm, jwkThumbprint, keyFitsAlgorithm } from './keys';

describe('jwkThumbprint', () => {
  it('matches the RFC 7638 example', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' });
    expect(jwkThumbprint(key)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it.each(['ec256', 'ec384', 'rsa', 'ed25519'] as const)('agrees with jose for %s keys, private or public', async (kind) => {
    const pair = keyPair(kind);
    const expected = await calculateJwkThumbprint(pair.publicKey.export({ format: 'jwk' }) as never);
    expect(jwkThumbprint(pair.publicKey)).toBe(expected);
    expect(jwkThumbprint(pair.privateKey)).toBe(expected);
  });

  it('has no thumbprint for secret keys', () => {
    expect(jwkThumbprint(createSecretKey(Buffer.from('secret')))).toBeUndefined();
  });
});

describe('algorithms and keys', () => {
  it('lists asymmetric algorithms only', () => {
    expect(ASYMMETRIC_ALGORITHMS.some((alg) => alg.startsWith('HS') || (alg as string) === 'none')).toBe(false);
    expect(isSigningAlgorithm('ES256')).toBe(true);
    expect(isSigningAlgorithm('HS256')).toBe(false);
    expect(isSigningAlgorithm('none')).toBe(false);
    expect(isSigningAlgorithm(undefined)).toBe(false);
  });

  it('fits each key type to its algorithms only', () => {
    const ec = keyPair('ec256').publicKey;
    const rsa = keyPair('rsa').publicKey;
    const ed = keyPair('ed25519').publicKey;
    expect(keyFitsAlgorithm(ec, 'ES256')).toBe(true);
    expect(keyFitsAlgorithm(ec, 'ES384')).toBe(false);
    expect(keyFitsAlgorithm(ec, 'RS256')).toBe(false);
    expect(keyFitsAlgorithm(rsa, 'RS512')).toBe(true);
    expect(keyFitsAlgorithm(rsa, 'PS256')).toBe(true);
    expect(keyFitsAlgorithm(rsa, 'EdDSA')).toBe(false);
    expect(keyFitsAlgorithm(ed, 'EdDSA')).toBe(true);
    expect(keyFitsAlgorithm(ed, 'ES256')).toBe(false);
    expect(keyFitsAlgorithm(createSecretKey(Buffer.from('x')), 'RS256')).toBe(false);
  });

  it('picks the issuer algorithm from the key', () => {
    expect(algorithmForKey(keyPair('ec384').privateKey)).toBe('ES384');
    expect(algorithmForKey(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey)).toBe('ES512');
    expect(() => algorithmForKey(generateKeyPairSync('x25519').privateKey)).toThrow('unsupported signing key type');
  });
});
