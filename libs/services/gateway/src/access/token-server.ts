import type { FastifyRequest } from 'fastify';
import { Access, Policy, ScopeError, TokenIssuer, basicChallenge, parseScopes } from '@ocireg/auth';
import { RegistryError } from '@ocireg/errors';
import { setRequestUser } from '@ocireg/observability';
import { LoginGuard, basicCredentials } from './access-control';

/** The registry's own token server (Docker token auth): users from htpasswd, rights from the policy. */
export interface TokenServerDeps {
  issuer: TokenIssuer;
  service: string;
  policy: Policy;
  /** Password checks; without one only anonymous tokens are issued. */
  guard?: LoginGuard;
}

export interface TokenRequest {
  user?: string;
  password?: string;
  refreshToken?: string;
  scopes: string[];
  service?: string;
  offline: boolean;
}

export interface TokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  scope?: string;
  refresh_token?: string;
}

/**
 * Issues tokens granting the intersection of the requested scopes and what the policy allows the caller;
 * a refresh token too when asked (`offline_token=true`, or `access_type=offline` on the OAuth2 form).
 */
export class TokenServer {
  constructor(private readonly deps: TokenServerDeps) {}

  async answer(request: TokenRequest, clientAddress: string): Promise<TokenAnswer> {
    if (request.service !== undefined && request.service !== this.deps.service) {
      throw new RegistryError('DENIED', `this token server serves "${this.deps.service}"`);
    }
    const user = await this.authenticate(request, clientAddress);
    if (user !== undefined) setRequestUser(user);
    let requested: Access[];
    try {
      requested = parseScopes(request.scopes.flatMap((s) => s.split(' ')).filter(Boolean));
    } catch (error) {
      if (error instanceof ScopeError) throw new RegistryError('UNSUPPORTED', 'invalid scope');
      throw error;
    }
    const granted = this.deps.policy.grant({ user }, requested);
    const issued = await this.deps.issuer.issue(user, granted);
    const answer: TokenAnswer = { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt };
    if (request.offline && user !== undefined) answer.refresh_token = (await this.deps.issuer.issueRefresh(user)).token;
    return answer;
  }

  private async authenticate(request: TokenRequest, clientAddress: string): Promise<string | undefined> {
    if (request.refreshToken !== undefined) {
      try {
        return (await this.deps.issuer.verifyRefresh(request.refreshToken)).subject;
      } catch {
        throw this.unauthorized('invalid refresh token');
      }
    }
    if (request.user === undefined) return undefined;
    const guard = this.deps.guard;
    if (!guard || !(await guard.login(request.user, request.password ?? '', clientAddress))) throw this.unauthorized('invalid credentials');
    return request.user;
  }

  private unauthorized(message: string): RegistryError {
    return new RegistryError('UNAUTHORIZED', message, undefined, { 'www-authenticate': basicChallenge('token') });
  }
}

/** GET /auth/token: Basic credentials (or none: anonymous), `scope` parameters, `offline_token`. */
export function tokenRequestFromQuery(request: FastifyRequest): TokenRequest {
  const query = request.query as Record<string, string | string[] | undefined>;
  const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  const credentials = basicCredentials(request);
  const one = (value: string | string[] | undefined) => list(value)[0];
  return {
    user: credentials?.user,
    password: credentials?.password,
    scopes: list(query['scope']),
    service: one(query['service']),
    offline: one(query['offline_token']) === 'true',
  };
}

/** POST /auth/token: the OAuth2 form (grant_type password or refresh_token). */
export function tokenRequestFromForm(form: URLSearchParams): TokenRequest {
  const grant = form.get('grant_type');
  const scopes = form.getAll('scope');
  const common = { scopes, service: form.get('service') ?? undefined, offline: form.get('access_type') === 'offline' };
  if (grant === 'password') {
    return { ...common, user: form.get('username') ?? '', password: form.get('password') ?? '' };
  }
  if (grant === 'refresh_token') return { ...common, refreshToken: form.get('refresh_token') ?? '' };
  throw new RegistryError('UNSUPPORTED', 'grant_type must be password or refresh_token');
}
