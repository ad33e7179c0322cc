import type { FastifyRequest } from 'fastify';
import { Access, InvalidTokenError, Policy, TokenVerifier, accessDetail, bearerChallenge, hasAccess } from '@ocireg/auth';
import { RegistryError } from '@ocireg/errors';
import { setRequestUser } from '@ocireg/observability';
import { AccessControl, bearerToken } from './access-control';
import type { Action, Caller } from './caller';
import { Requirement, accessOf } from './requirement';

/** Where clients get tokens: a fixed realm, or (own token endpoint) one derived from the request's host. */
export type RealmOf = (request: FastifyRequest) => string;

/**
 * Docker token auth: the caller presents a JWT from the token server (ours or an external one) whose
 * `access` claim lists what it may do. Missing or invalid tokens and insufficient scopes get 401 with a
 * Bearer challenge naming realm, service and the exact scope needed, as Distribution answers.
 */
export class BearerAccessControl implements AccessControl {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly realmOf: RealmOf,
    private readonly service: string,
    /** With the registry's own token server, the catalog shows only what the policy lets the user pull. */
    private readonly policy?: Policy,
  ) {}

  async authorize(request: FastifyRequest, requirement: Requirement): Promise<Caller> {
    const token = bearerToken(request);
    if (!token) throw this.challenge(request, requirement, undefined, 'authentication required');
    let claims: { subject: string; access: Access[] };
    try {
      claims = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw this.challenge(request, requirement, 'invalid_token', 'invalid token');
      throw error;
    }
    if (claims.subject !== '') setRequestUser(claims.subject);
    const caller = this.callerOf(claims.subject, claims.access);
    if (this.satisfied(caller, claims.access, requirement)) return caller;
    throw this.challenge(request, requirement, 'insufficient_scope', 'insufficient scope');
  }

  private callerOf(subject: string, access: Access[]): Caller {
    const user = subject === '' ? undefined : subject;
    const policy = this.policy;
    const mayByToken = (repository: string, action: Action) => hasAccess(access, 'repository', repository, action);
    const mayByPolicy = (repository: string, action: Action) => policy?.allowed({ user }, repository).has(action) ?? false;
    return {
      user,
      // A mount source counts when the token grants it or (own token server) the policy does.
      may: (repository, action) => mayByToken(repository, action) || mayByPolicy(repository, action),
      mayListCatalog: hasAccess(access, 'registry', 'catalog', '*'),
      // An external token server vouched for the whole catalog; ours filters it by the policy.
      seesInCatalog: (repository) => (policy ? mayByPolicy(repository, 'pull') : true),
    };
  }

  private satisfied(caller: Caller, access: Access[], requirement: Requirement): boolean {
    switch (requirement.kind) {
      case 'login':
        return true;
      case 'catalog':
        return caller.mayListCatalog;
      case 'repository':
        return requirement.actions.every((action) => hasAccess(access, 'repository', requirement.name, action));
    }
  }

  private challenge(request: FastifyRequest, requirement: Requirement, error: 'invalid_token' | 'insufficient_scope' | undefined, message: string): RegistryError {
    const required = accessOf(requirement);
    const header = bearerChallenge({ realm: this.realmOf(request), service: this.service, scopes: required, error });
    return new RegistryError('UNAUTHORIZED', message, required.length > 0 ? accessDetail(required) : undefined, { 'www-authenticate': header });
  }
}
