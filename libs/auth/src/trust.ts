import { JsonWebKey, KeyObject, X509Certificate, createPublicKey } from 'node:crypto';
import { SigningAlgorithm, certificateValidAt, isSigningAlgorithm, jwkThumbprint, parseCertificates } from './keys';
import { InvalidTokenError } from './token-claims';

/**
 * The keys a token verifier trusts: root certificates (Distribution's `rootcertbundle`), whose public keys
 * are also trusted by their RFC 7638 thumbprint as a `kid`, and the keys of a JWK Set (by their `kid`, or
 * their thumbprint when they have none).
 */

export interface TrustedKey {
  readonly key: KeyObject;
  /** The JWK's `alg`, when it names one: the key then signs with that algorithm only. */
  readonly alg?: SigningAlgorithm;
  /** The bundle certificate the key comes from: its validity period applies. */
  readonly certificate?: X509Certificate;
}

/** The moment to check certificate validity at (ms) and the clock skew allowed around it. */
export interface Clock {
  readonly now: number;
  readonly leewayMs: number;
}

const MAX_CHAIN = 10;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function untrusted(message: string): InvalidTokenError {
  return new InvalidTokenError('untrusted_key', message);
}

/** Reads a JWK Set's JSON text into trusted keys by key id. Throws a start-up error naming the bad key. */
export function readJwks(text: string, into: Map<string, TrustedKey>): void {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error('jwks: not valid JSON');
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('jwks: expected a JSON object with a "keys" list');
  keys.forEach((raw: unknown, index) => {
    const where = `jwks: key ${index + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${where} is not an object`);
    const jwk = { ...(raw as Record<string, unknown>) };
    if (jwk['kty'] === 'oct') throw new Error(`${where} is a symmetric key; only public keys are accepted`);
    if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return;
    const alg = jwk['alg'];
    if (alg !== undefined && !isSigningAlgorithm(alg)) {
      throw new Error(`${where} has unsupported alg ${JSON.stringify(alg)}; only asymmetric algorithms are accepted`);
    }
    for (const member of PRIVATE_MEMBERS) delete jwk[member];
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      throw new Error(`${where} is not a usable RSA, EC or OKP public key`);
    }
    const kid = typeof jwk['kid'] === 'string' && jwk['kid'] !== '' ? jwk['kid'] : jwkThumbprint(key);
    if (kid === undefined) throw new Error(`${where} has no kid and no thumbprint`);
    if (into.has(kid)) throw new Error(`jwks: key id ${JSON.stringify(kid)} appears twice`);
    into.set(kid, { key, ...(alg === undefined ? {} : { alg }) });
  });
}

/** Reads a PEM root bundle; each root's key is also trusted under its thumbprint. */
export function readRootBundle(pem: string, into: Map<string, TrustedKey>): X509Certificate[] {
  const roots = parseCertificates(pem, 'rootcertbundle');
  for (const certificate of roots) {
    const kid = jwkThumbprint(certificate.publicKey);
    if (kid !== undefined && !into.has(kid)) into.set(kid, { key: certificate.publicKey, certificate });
  }
  return roots;
}

function issues(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function decodeChain(x5c: unknown): X509Certificate[] {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN) {
    throw new InvalidTokenError('malformed', 'the x5c header is not a list of 1 to 10 certificates');
  }
  return x5c.map((entry: unknown) => {
    if (typeof entry !== 'string' || !BASE64.test(entry)) {
      throw new InvalidTokenError('malformed', 'an x5c certificate is not base64');
    }
    try {
      return new X509Certificate(Buffer.from(entry, 'base64'));
    } catch {
      throw new InvalidTokenError('malformed', 'an x5c certificate cannot be parsed');
    }
  });
}

/**
 * The signing key of an `x5c` chain that leads to a root of the bundle: each certificate is issued and
 * signed by the next (a CA), the last by a bundle root (or is itself one), and every certificate on the
 * way, the root included, is valid at the clock's time (give or take its leeway). The key is the leaf's.
 */
export function chainKey(x5c: unknown, roots: readonly X509Certificate[], clock: Clock): KeyObject {
  if (roots.length === 0) throw untrusted('the token has an x5c chain but no root certificates are configured');
  const certs = decodeChain(x5c);
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i];
    if (!certificateValidAt(cert, clock.now, clock.leewayMs)) {
      throw untrusted(i === 0 ? 'the signing certificate is expired or not yet valid' : 'an x5c certificate is expired or not yet valid');
    }
    if (roots.some((root) => root.raw.equals(cert.raw))) return certs[0].publicKey;
    if (i + 1 < certs.length) {
      if (!issues(certs[i + 1], cert)) throw untrusted('the x5c chain is broken: a certificate is not signed by the next');
      continue;
    }
    const root = roots.find((candidate) => issues(candidate, cert));
    if (!root) throw untrusted('the x5c chain does not lead to a trusted root certificate');
    if (!certificateValidAt(root, clock.now, clock.leewayMs)) throw untrusted('the root certificate is expired or not yet valid');
    return certs[0].publicKey;
  }
  throw untrusted('the x5c chain does not lead to a trusted root certificate');
}

/** A trusted key named by the token's `kid`. */
export function keyById(kid: unknown, trusted: ReadonlyMap<string, TrustedKey>, clock: Clock): TrustedKey {
  if (typeof kid !== 'string' || kid === '') throw new InvalidTokenError('malformed', 'the kid header is not a string');
  const found = trusted.get(kid);
  if (!found) throw untrusted('the token is signed with an unknown key (kid)');
  if (found.certificate && !certificateValidAt(found.certificate, clock.now, clock.leewayMs)) {
    throw untrusted('the root certificate of that key is expired or not yet valid');
  }
  return found;
}

/** A trusted key equal (same thumbprint) to the token's embedded `jwk`: the header alone is never trusted. */
export function keyByJwk(jwk: unknown, trusted: ReadonlyMap<string, TrustedKey>, clock: Clock): TrustedKey {
  let thumbprint: string | undefined;
  try {
    const embedded = { ...(jwk as Record<string, unknown>) };
    for (const member of PRIVATE_MEMBERS) delete embedded[member];
    thumbprint = jwkThumbprint(createPublicKey({ key: embedded as JsonWebKey, format: 'jwk' }));
  } catch {
    throw new InvalidTokenError('malformed', 'the jwk header is not a public key');
  }
  for (const candidate of trusted.values()) {
    if (thumbprint !== undefined && jwkThumbprint(candidate.key) === thumbprint) {
      if (candidate.certificate && !certificateValidAt(candidate.certificate, clock.now, clock.leewayMs)) continue;
      return candidate;
    }
  }
  throw untrusted('the token is signed with an unknown key (jwk)');
}
