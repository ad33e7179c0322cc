import { KeyObject, X509Certificate, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { JWK, SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { Access } from './scope';
import { SigningAlgorithm, algorithmForKey, certificateValidAt, jwkThumbprint, parseCertificates, publicJwk } from './keys';
import { InvalidTokenError, REFRESH_TOKEN_USE, TOKEN_USE_CLAIM } from './token-claims';

export interface TokenIssuerOptions {
  /** PEM private key (PKCS#8, or PKCS#1 RSA / SEC1 EC): RSA signs RS256, EC ES256/384/512, Ed25519 EdDSA. */
  privateKey: string;
  /**
   * PEM certificate of that key, optionally followed by its intermediates: sent as the `x5c` header so
   * verifiers holding the root (Distribution's `rootcertbundle`) can check tokens.
   */
  certificate?: string;
  /** `iss` of every token. */
  issuer: string;
  /** `aud` of access tokens: the registry's service name. */
  service: string;
  /** Access-token lifetime in seconds: default 300, at least 60. */
  lifetimeSeconds?: number;
  /** Refresh-token lifetime in seconds: default 30 days. */
  refreshLifetimeSeconds?: number;
  /** Clock in ms since the epoch (tests). */
  now?: () => number;
}

export interface IssuedToken {
  token: string;
  /** Seconds from `issuedAt` until the token expires. */
  expiresIn: number;
  /** RFC 3339, UTC, whole seconds. */
  issuedAt: string;
}

export interface RefreshTokenClaims {
  subject: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** A public JWK as `jwks()` publishes it: with its `kid` (RFC 7638 thumbprint), `alg` and `use: "sig"`. */
export type PublicJwk = JWK & { kid: string; alg: SigningAlgorithm; use: 'sig' };

const DEFAULT_LIFETIME = 300;
const MIN_LIFETIME = 60;
const DEFAULT_REFRESH_LIFETIME = 30 * 24 * 3600;
const CLOCK_TOLERANCE = 30;

function seconds(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < MIN_LIFETIME) {
    throw new Error(`${name} must be a whole number of seconds, at least ${MIN_LIFETIME}`);
  }
  return result;
}

function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Signs the registry's own bearer tokens (Distribution's token format) and its refresh tokens.
 * Access tokens: header `alg`, `typ: JWT`, `kid` (RFC 7638 thumbprint), `x5c` when a certificate is given;
 * claims iss, sub ("" for anonymous), aud, exp, nbf, iat, jti, access.
 * Refresh tokens are JWTs too, with `aud` = the issuer (they are for the token endpoint, not the registry),
 * a `service` claim, no `access`, and `token_use: "refresh"`, which access-token verification refuses.
 */
export class TokenIssuer {
  readonly algorithm: SigningAlgorithm;
  readonly keyId: string;
  readonly issuer: string;
  readonly service: string;
  readonly lifetimeSeconds: number;
  readonly refreshLifetimeSeconds: number;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly chain: string[] | undefined;
  private readonly now: () => number;

  constructor(options: TokenIssuerOptions) {
    if (options.issuer === '') throw new Error('token issuer: issuer must not be empty');
    if (options.service === '') throw new Error('token issuer: service must not be empty');
    try {
      this.privateKey = createPrivateKey(options.privateKey);
    } catch {
      throw new Error('token issuer: the private key cannot be read (expected an unencrypted PEM private key)');
    }
    this.publicKey = createPublicKey(this.privateKey);
    this.algorithm = algorithmForKey(this.privateKey);
    const keyId = jwkThumbprint(this.privateKey);
    if (keyId === undefined) throw new Error('token issuer: the key has no JWK form');
    this.keyId = keyId;
    this.issuer = options.issuer;
    this.service = options.service;
    this.lifetimeSeconds = seconds(options.lifetimeSeconds, DEFAULT_LIFETIME, 'token lifetime');
    this.refreshLifetimeSeconds = seconds(
      options.refreshLifetimeSeconds,
      DEFAULT_REFRESH_LIFETIME,
      'refresh token lifetime',
    );
    this.now = options.now ?? Date.now;
    this.chain = options.certificate === undefined ? undefined : this.checkChain(options.certificate);
  }

  private checkChain(pem: string): string[] {
    const certs: X509Certificate[] = parseCertificates(pem, 'token issuer certificate');
    if (!certs[0].checkPrivateKey(this.privateKey)) {
      throw new Error('token issuer: the certificate is not that of the private key');
    }
    if (!certificateValidAt(certs[0], this.now())) {
      throw new Error(`token issuer: the certificate is not valid now (${certs[0].validFrom} to ${certs[0].validTo})`);
    }
    return certs.map((cert) => cert.raw.toString('base64'));
  }

  /** A signed access token for `subject` (undefined or "" = anonymous) carrying exactly `access`. */
  async issue(subject: string | undefined, access: readonly Access[]): Promise<IssuedToken> {
    const iat = Math.floor(this.now() / 1000);
    const claims = {
      iss: this.issuer,
      sub: subject ?? '',
      aud: this.service,
      exp: iat + this.lifetimeSeconds,
      nbf: iat,
      iat,
      jti: randomBytes(16).toString('base64url'),
      access: access.map((entry) => ({ type: entry.type, name: entry.name, actions: [...entry.actions] })),
    };
    const header = { alg: this.algorithm, typ: 'JWT', kid: this.keyId, ...(this.chain ? { x5c: this.chain } : {}) };
    const token = await new SignJWT(claims).setProtectedHeader(header).sign(this.privateKey);
    return { token, expiresIn: this.lifetimeSeconds, issuedAt: rfc3339(iat) };
  }

  /** A refresh (offline) token for a signed-in subject. */
  async issueRefresh(subject: string): Promise<IssuedToken> {
    if (subject === '') throw new Error('refresh tokens are only issued to signed-in users');
    const iat = Math.floor(this.now() / 1000);
    const claims = {
      iss: this.issuer,
      sub: subject,
      aud: this.issuer,
      service: this.service,
      exp: iat + this.refreshLifetimeSeconds,
      nbf: iat,
      iat,
      jti: randomBytes(16).toString('base64url'),
      [TOKEN_USE_CLAIM]: REFRESH_TOKEN_USE,
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: this.algorithm, typ: 'JWT', kid: this.keyId })
      .sign(this.privateKey);
    return { token, expiresIn: this.refreshLifetimeSeconds, issuedAt: rfc3339(iat) };
  }

  /** Checks a refresh token this issuer signed, for this service. Throws `InvalidTokenError`. */
  async verifyRefresh(token: string): Promise<RefreshTokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [this.algorithm],
        issuer: this.issuer,
        audience: this.issuer,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE,
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new InvalidTokenError('expired', 'refresh token has expired');
      throw new InvalidTokenError('not_refresh_token', 'not a valid refresh token');
    }
    if (payload[TOKEN_USE_CLAIM] !== REFRESH_TOKEN_USE || payload['access'] !== undefined) {
      throw new InvalidTokenError('not_refresh_token', 'not a refresh token');
    }
    if (payload['service'] !== this.service) {
      throw new InvalidTokenError('audience', 'refresh token is for another service');
    }
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject === '' || typeof payload.exp !== 'number') {
      throw new InvalidTokenError('claims', 'refresh token has no subject');
    }
    return { subject, expiresAt: payload.exp };
  }

  /** The public key as a JWK Set, for the registry's own verifier (`jwks` option) and other services. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: [{ ...publicJwk(this.publicKey), kid: this.keyId, alg: this.algorithm, use: 'sig' }] };
  }
}
