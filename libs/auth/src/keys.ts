import { KeyObject, X509Certificate, createHash, createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';

/** The JWS algorithms tokens may be signed with: asymmetric only (never `none`, never HS*). */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const;
export type SigningAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(value);
}

const CURVE_OF: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Whether a public or private key can make or check signatures of `alg` (no key confusion across types). */
export function keyFitsAlgorithm(key: KeyObject, alg: SigningAlgorithm): boolean {
  if (key.type === 'secret') return false;
  const kind = key.asymmetricKeyType;
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
      return kind === 'rsa';
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return kind === 'rsa' || kind === 'rsa-pss';
    case 'ES256':
    case 'ES384':
    case 'ES512':
      return kind === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE_OF[alg];
    case 'EdDSA':
      return kind === 'ed25519' || kind === 'ed448';
  }
}

/** The algorithm the token issuer signs with for a private key: RS256, ES256/384/512 by curve, or EdDSA. */
export function algorithmForKey(key: KeyObject): SigningAlgorithm {
  const kind = key.asymmetricKeyType;
  if (kind === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`RSA signing keys must have at least 2048 bits, this one has ${bits}`);
    return 'RS256';
  }
  if (kind === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const alg = (['ES256', 'ES384', 'ES512'] as const).find((each) => CURVE_OF[each] === curve);
    if (!alg) throw new Error(`unsupported EC curve ${curve ?? '(unknown)'}: use P-256, P-384 or P-521`);
    return alg;
  }
  if (kind === 'ed25519' || kind === 'ed448') return 'EdDSA';
  throw new Error(`unsupported signing key type ${kind ?? '(unknown)'}: use RSA, EC P-256 or Ed25519`);
}

/** RFC 7638 members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

/** The public JWK of a key (only public members). */
export function publicJwk(key: KeyObject): JWK {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'jwk' }) as JWK;
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a key, which Distribution uses as the `kid` of
 * root-bundle keys. Undefined for key types JWK cannot describe.
 */
export function jwkThumbprint(key: KeyObject): string | undefined {
  let jwk: Record<string, unknown>;
  try {
    jwk = { ...publicJwk(key) };
  } catch {
    return undefined;
  }
  const kty = String(jwk['kty']);
  if (!Object.hasOwn(THUMBPRINT_MEMBERS, kty)) return undefined;
  const members = THUMBPRINT_MEMBERS[kty];
  const canonical = `{${members.map((name) => `${JSON.stringify(name)}:${JSON.stringify(jwk[name] ?? '')}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM text, in order. Throws naming `what` when there is none or one is unreadable. */
export function parseCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${what}: no PEM certificate found`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new Error(`${what}: certificate ${index + 1} cannot be parsed`);
    }
  });
}

/** Whether `now` (ms) lies within a certificate's validity period, give or take `leewayMs` of clock skew. */
export function certificateValidAt(cert: X509Certificate, now: number, leewayMs = 0): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return Number.isFinite(from) && Number.isFinite(to) && from - leewayMs <= now && now <= to + leewayMs;
}
