/**
 * Test support only: a scratch PKI, trusted keys and a TokenVerifier over them, plus token-forging helpers
 * for the verifier specs.
 */
import { JWTHeaderParameters, SignJWT } from 'jose';
import { KeyObject, X509Certificate, randomBytes } from 'node:crypto';
import { InvalidTokenError, InvalidTokenReason } from '../src/token-claims';
import { TokenVerifier, TokenVerifierOptions } from '../src/token-verifier';
import { Issued, KeyPair, Pki, keyPair } from './pki';

export const BASE = { issuer: 'ocireg-token', service: 'registry.test' };
export const DAY = 24 * 3600 * 1000;
export const ACCESS = [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }];

export function claims(nowMs: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: BASE.issuer,
    sub: 'alice',
    aud: BASE.service,
    exp: iat + 300,
    nbf: iat,
    iat,
    jti: randomBytes(8).toString('hex'),
    access: ACCESS,
    ...overrides,
  };
}

export function sign(key: KeyObject, header: JWTHeaderParameters, payload: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

export function x5c(...certs: Issued[]): string[] {
  return certs.map((cert) => new X509Certificate(cert.pem).raw.toString('base64'));
}

/** The reason a verification fails with; checks the error never quotes the token. */
export async function reason(verifier: TokenVerifier, token: string): Promise<InvalidTokenReason> {
  try {
    await verifier.verify(token);
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
    expect(error.error).toBe('invalid_token');
    for (const part of token.split('.')) if (part.length > 8) expect(error.message).not.toContain(part);
    if (token !== '') expect(String(error.stack)).not.toContain(token);
    return error.reason;
  }
  throw new Error('the token was accepted');
}

export interface VerifierFixture {
  now: number;
  pki: Pki;
  /** CA root in the bundle. */
  root: Issued;
  /** CA under root, and a leaf under it (30 days). */
  int: Issued;
  leaf: Issued;
  /** CA under root valid for 1 day, and a leaf under it (30 days). */
  shortInt: Issued;
  leafUnderShort: Issued;
  /** Leaf signed by root directly. */
  direct: Issued;
  /** Not a CA, yet signing a leaf. */
  notCa: Issued;
  leafUnderNotCa: Issued;
  /** Root not in the bundle, and a leaf under it. */
  otherRoot: Issued;
  otherLeaf: Issued;
  /** Self-signed non-CA certificate (30 days) put in the bundle itself. */
  bundleLeaf: Issued;
  /** JWKS keys: `ed-1` (alg EdDSA pinned) and `rsa-1` (no alg). */
  edKey: KeyPair;
  rsaKey: KeyPair;
  options: TokenVerifierOptions;
  verifier: TokenVerifier;
}

export function createVerifierFixture(): VerifierFixture {
  const pki = new Pki();
  const root = pki.selfSigned('root', { ca: true });
  const int = pki.signed('int', root, { ca: true });
  const shortInt = pki.signed('short-int', root, { ca: true, days: 1 });
  const notCa = pki.signed('not-ca', root);
  const otherRoot = pki.selfSigned('other-root', { ca: true });
  const bundleLeaf = pki.selfSigned('bundle-leaf', { days: 30 });
  const edKey = keyPair('ed25519');
  const rsaKey = keyPair('rsa');
  const jwks = {
    keys: [
      { ...edKey.publicKey.export({ format: 'jwk' }), kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
      { ...rsaKey.publicKey.export({ format: 'jwk' }), kid: 'rsa-1' },
    ],
  };
  const partial = {
    pki,
    root,
    int,
    leaf: pki.signed('leaf', int, { days: 30 }),
    shortInt,
    leafUnderShort: pki.signed('leaf-short', shortInt, { days: 30 }),
    direct: pki.signed('direct', root),
    notCa,
    leafUnderNotCa: pki.signed('leaf-not-ca', notCa),
    otherRoot,
    otherLeaf: pki.signed('other-leaf', otherRoot),
    bundleLeaf,
    edKey,
    rsaKey,
  };
  // After the certificates exist: they are valid from the second they were made.
  const now = Date.now();
  const options = { ...BASE, rootCertBundle: root.pem + bundleLeaf.pem, jwks: JSON.stringify(jwks), now: () => now };
  return { ...partial, now, options, verifier: new TokenVerifier(options) };
}
