import { Access } from './scope';

/** Why a token was refused. Callers answer with `error="invalid_token"` whatever the reason. */
export type InvalidTokenReason =
  | 'malformed'
  | 'algorithm'
  | 'untrusted_key'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'refresh_token'
  | 'not_refresh_token';

/**
 * A token that cannot be trusted. The message is a short description of the reason, safe to log and to
 * show: it never holds the token or any part of it.
 */
export class InvalidTokenError extends Error {
  /** The OAuth error code for the `WWW-Authenticate` challenge. */
  readonly error = 'invalid_token';

  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

/** The claim that marks a refresh token, and its value. An access-token verifier refuses any token with it. */
export const TOKEN_USE_CLAIM = 'token_use';
export const REFRESH_TOKEN_USE = 'refresh';

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * Reads a token's `access` claim: absent means no access; a malformed entry makes the whole token invalid.
 * The deprecated resource class (`repository(plugin)`) is dropped; entries of other resource types are
 * ignored, since nothing here could authorize them.
 */
export function readAccessClaim(value: unknown): Access[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidTokenError('claims', 'the access claim is not a list');
  const access: Access[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null) throw new InvalidTokenError('claims', 'malformed access entry');
    const { type, name, actions } = entry as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !isStringArray(actions)) {
      throw new InvalidTokenError('claims', 'malformed access entry');
    }
    const baseType = type.replace(/\([a-z0-9]+\)$/, '');
    if (baseType !== 'repository' && baseType !== 'registry') continue;
    access.push({ type: baseType, name, actions: [...actions] });
  }
  return access;
}
