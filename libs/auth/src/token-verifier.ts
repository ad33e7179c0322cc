import { KeyObject, X509Certificate } from 'node:crypto';
import { ProtectedHeaderParameters, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { Access } from './scope';
import { ASYMMETRIC_ALGORITHMS, SigningAlgorithm, isSigningAlgorithm, keyFitsAlgorithm } from './keys';
import { InvalidTokenError, REFRESH_TOKEN_USE, TOKEN_USE_CLAIM, readAccessClaim } from './token-claims';
import { Clock, TrustedKey, chainKey, keyById, keyByJwk, readJwks, readRootBundle } from './trust';

export interface TokenVerifierOptions {
  /** The `iss` tokens must carry (Distribution's `auth.token.issuer`). */
  issuer: string;
  /** This registry's service name: tokens' `aud` must contain it. */
  service: string;
  /** PEM, one or more certificates: roots of `x5c` chains; their keys are also trusted by thumbprint `kid`. */
  rootCertBundle?: string;
  /** JSON JWK Set of trusted public keys, looked up by `kid`. */
  jwks?: string;
  /** Allowed `alg` values, asymmetric only; default all of RS*, PS*, ES*, EdDSA. */
  algorithms?: readonly string[];
  /** Leeway for `exp` and `nbf`, default 30 seconds. */
  clockToleranceSeconds?: number;
  /** Clock in ms since the epoch (tests). */
  now?: () => number;
}

export interface VerifiedToken {
  /** `sub`; "" for an anonymous token. */
  subject: string;
  access: Access[];
  /** `exp`, seconds since the epoch. */
  expiresAt: number;
  /** `jti`, when present (for replay checks). */
  id?: string;
}

const MAX_TOKEN_LENGTH = 64 * 1024;
const DEFAULT_TOLERANCE = 30;

/** Builds the allow-list; HS*, `none` or anything unknown is a start-up error. */
function allowList(algorithms: readonly string[] | undefined): ReadonlySet<SigningAlgorithm> {
  if (algorithms === undefined || algorithms.length === 0) return new Set(ASYMMETRIC_ALGORITHMS);
  const allowed = new Set<SigningAlgorithm>();
  for (const alg of algorithms) {
    if (!isSigningAlgorithm(alg)) {
      throw new Error(
        `token verifier: signing algorithm ${JSON.stringify(alg)} is not supported; use asymmetric ones: ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
      );
    }
    allowed.add(alg);
  }
  return allowed;
}

/** Turns jose's failures into reasons, without their messages (which may quote claims). */
function fromJose(error: unknown): InvalidTokenError {
  if (error instanceof InvalidTokenError) return error;
  if (error instanceof joseErrors.JWTExpired) return new InvalidTokenError('expired', 'the token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return new InvalidTokenError('claims', `the token has no ${error.claim} claim`);
    switch (error.claim) {
      case 'nbf':
        return new InvalidTokenError('not_yet_valid', 'the token is not valid yet');
      case 'iss':
        return new InvalidTokenError('issuer', 'the token comes from another issuer');
      case 'aud':
        return new InvalidTokenError('audience', 'the token is not meant for this service');
      default:
        return new InvalidTokenError('claims', `the token's ${error.claim} claim is invalid`);
    }
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError('signature', 'the token signature does not verify');
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new InvalidTokenError('algorithm', 'algorithm not allowed');
  return new InvalidTokenError('malformed', 'the token is malformed');
}

/**
 * Verifies bearer tokens as Distribution's token access controller does: the signing key comes from the
 * `x5c` chain (to a bundle root), else from an embedded `jwk` equal to a trusted key, else from `kid`
 * (JWKS key, or bundle key by thumbprint); then alg, signature, iss, aud, exp and nbf are checked.
 * Refresh tokens are refused. Every failure is an `InvalidTokenError`.
 */
export class TokenVerifier {
  private readonly issuer: string;
  private readonly service: string;
  private readonly algorithms: ReadonlySet<SigningAlgorithm>;
  private readonly tolerance: number;
  private readonly roots: X509Certificate[] = [];
  private readonly trusted = new Map<string, TrustedKey>();
  private readonly now: () => number;

  constructor(options: TokenVerifierOptions) {
    if (options.issuer === '') throw new Error('token verifier: issuer must not be empty');
    if (options.service === '') throw new Error('token verifier: service must not be empty');
    if (options.rootCertBundle === undefined && options.jwks === undefined) {
      throw new Error('token verifier: a root certificate bundle or a JWK Set is needed');
    }
    this.issuer = options.issuer;
    this.service = options.service;
    this.algorithms = allowList(options.algorithms);
    this.tolerance = options.clockToleranceSeconds ?? DEFAULT_TOLERANCE;
    if (!Number.isFinite(this.tolerance) || this.tolerance < 0) {
      throw new Error('token verifier: clock tolerance must be a non-negative number of seconds');
    }
    this.now = options.now ?? Date.now;
    // JWKS keys first, so that their own kid wins over a bundle thumbprint.
    if (options.jwks !== undefined) readJwks(options.jwks, this.trusted);
    if (options.rootCertBundle !== undefined) this.roots.push(...readRootBundle(options.rootCertBundle, this.trusted));
  }

  async verify(token: string): Promise<VerifiedToken> {
    const now = this.now();
    const header = this.header(token);
    const alg = header.alg;
    if (!isSigningAlgorithm(alg) || !this.algorithms.has(alg)) {
      throw new InvalidTokenError('algorithm', 'the token is signed with an algorithm that is not allowed');
    }
    const key = this.signingKey(header, alg, { now, leewayMs: this.tolerance * 1000 });

    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [alg],
        issuer: this.issuer,
        audience: this.service,
        requiredClaims: ['iss', 'aud', 'exp'],
        clockTolerance: this.tolerance,
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw fromJose(error);
    }

    if (payload[TOKEN_USE_CLAIM] === REFRESH_TOKEN_USE) {
      throw new InvalidTokenError('refresh_token', 'a refresh token is not an access token');
    }
    const subject = payload['sub'] ?? '';
    if (typeof subject !== 'string') throw new InvalidTokenError('claims', 'the sub claim is not a string');
    const expiresAt = payload['exp'];
    if (typeof expiresAt !== 'number') throw new InvalidTokenError('claims', 'the exp claim is not a number');
    const jti = payload['jti'];
    return {
      subject,
      access: readAccessClaim(payload['access']),
      expiresAt,
      ...(typeof jti === 'string' ? { id: jti } : {}),
    };
  }

  private header(token: string): ProtectedHeaderParameters {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError('malformed', 'the token is empty or too long');
    }
    if (token.split('.').length !== 3) throw new InvalidTokenError('malformed', 'the token is not a signed JWT');
    try {
      return decodeProtectedHeader(token);
    } catch {
      throw new InvalidTokenError('malformed', 'the token header cannot be decoded');
    }
  }

  /** The key to check the signature with: x5c, else jwk, else kid, as Distribution. */
  private signingKey(header: ProtectedHeaderParameters, alg: SigningAlgorithm, clock: Clock): KeyObject {
    let key: KeyObject;
    let keyAlg: SigningAlgorithm | undefined;
    if (header.x5c !== undefined) {
      key = chainKey(header.x5c, this.roots, clock);
    } else if (header.jwk !== undefined) {
      ({ key, alg: keyAlg } = keyByJwk(header.jwk, this.trusted, clock));
    } else if (header.kid !== undefined) {
      ({ key, alg: keyAlg } = keyById(header.kid, this.trusted, clock));
    } else {
      throw new InvalidTokenError('untrusted_key', 'the token names no key (no x5c, jwk or kid header)');
    }
    if ((keyAlg !== undefined && keyAlg !== alg) || !keyFitsAlgorithm(key, alg)) {
      throw new InvalidTokenError('algorithm', 'the token algorithm does not fit its key');
    }
    return key;
  }
}
