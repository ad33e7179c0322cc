import { Access, formatScopes, mergeAccess } from './scope';

/**
 * `WWW-Authenticate` values as Distribution sends them:
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"
 * with `,error="invalid_token"` or `,error="insufficient_scope"` appended when a token was refused.
 */

export type BearerError = 'invalid_token' | 'insufficient_scope';

export interface BearerChallengeParams {
  realm: string;
  service: string;
  /** The access the request needs; several resources are space-separated in the one `scope` parameter. */
  scopes?: readonly Access[];
  error?: BearerError;
}

/** An RFC 7230 quoted-string: `"` and `\` escaped; control characters cannot appear in a header. */
function quoted(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error('a challenge parameter contains a control character');
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export function bearerChallenge(params: BearerChallengeParams): string {
  let value = `Bearer realm=${quoted(params.realm)},service=${quoted(params.service)}`;
  const scope = params.scopes ? formatScopes(params.scopes) : '';
  if (scope !== '') value += `,scope=${quoted(scope)}`;
  if (params.error !== undefined) value += `,error=${quoted(params.error)}`;
  return value;
}

export function basicChallenge(realm: string): string {
  return `Basic realm=${quoted(realm)}`;
}

/** One entry of an `UNAUTHORIZED`/`DENIED` error's detail, as Distribution writes it. */
export interface AccessDetail {
  Type: string;
  Name: string;
  Action: string;
}

/** The error detail Distribution sends with a 401: one entry per required action. */
export function accessDetail(required: readonly Access[]): AccessDetail[] {
  return mergeAccess(required).flatMap((entry) =>
    entry.actions.map((action) => ({ Type: entry.type, Name: entry.name, Action: action })),
  );
}
