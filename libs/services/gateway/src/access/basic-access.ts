import type { FastifyRequest } from 'fastify';
import { type Policy, basicChallenge } from '@ocireg/auth';
import { RegistryError } from '@ocireg/errors';
import { setRequestUser } from '@ocireg/observability';
import { AccessControl, LoginGuard, basicCredentials } from './access-control';
import type { Action, Caller } from './caller';
import type { Requirement } from './requirement';

/** htpasswd users (Basic auth) and a policy of who may do what; anonymous callers get what the policy allows. */
export class BasicAccessControl implements AccessControl {
  constructor(
    private readonly realm: string,
    private readonly guard: LoginGuard,
    private readonly policy: Policy,
  ) {}

  async authorize(request: FastifyRequest, requirement: Requirement): Promise<Caller> {
    const credentials = basicCredentials(request);
    let user: string | undefined;
    if (credentials) {
      if (!(await this.guard.login(credentials.user, credentials.password, request.ip))) throw this.unauthorized('invalid credentials');
      user = credentials.user;
      setRequestUser(user);
    }
    const caller = policyCaller(this.policy, user);
    if (satisfies(caller, requirement)) return caller;
    if (user === undefined) throw this.unauthorized('authentication required');
    throw new RegistryError('DENIED', 'requested access to the resource is denied');
  }

  private unauthorized(message: string): RegistryError {
    return new RegistryError('UNAUTHORIZED', message, undefined, { 'www-authenticate': basicChallenge(this.realm) });
  }
}

/** A caller whose rights come from a policy. */
export function policyCaller(policy: Policy, user: string | undefined): Caller {
  const subject = { user };
  const may = (repository: string, action: Action) => policy.allowed(subject, repository).has(action);
  return { user, may, mayListCatalog: policy.canListCatalog(subject), seesInCatalog: (repository) => may(repository, 'pull') };
}

/** Whether a caller may do what a request needs (`login` needs only a known caller: checked by the caller). */
export function satisfies(caller: Caller, requirement: Requirement): boolean {
  switch (requirement.kind) {
    case 'login':
      return caller.user !== undefined;
    case 'catalog':
      return caller.mayListCatalog;
    case 'repository':
      return requirement.actions.every((action) => caller.may(requirement.name, action));
  }
}
