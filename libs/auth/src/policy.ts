import { isRepositoryName } from '@ocireg/oci';
import { Access, REPOSITORY_ACTIONS, RepositoryAction, mergeAccess } from './scope';
import { RepositoryMatcher, compileGlob } from './glob';
import { parsePolicyDocument } from './policy-document';

/** Who asks: a signed-in user, or nobody (`user` undefined or empty). */
export interface Subject {
  user?: string;
}

/** Who a rule or the catalog permission applies to. */
export interface Audience {
  users: readonly string[];
  groups: readonly string[];
  /** Everyone, signed in or not. */
  anonymous: boolean;
  /** Every signed-in user. */
  authenticated: boolean;
}

export interface PolicyRule extends Audience {
  repositories: readonly string[];
  actions: readonly RepositoryAction[];
}

/** A validated policy: what `parsePolicy` reads from YAML. */
export interface PolicyDefinition {
  groups: ReadonlyMap<string, readonly string[]>;
  rules: readonly PolicyRule[];
  catalog: Audience;
}

interface CompiledRule {
  readonly audience: Audience;
  readonly matchers: readonly RepositoryMatcher[];
  readonly actions: readonly RepositoryAction[];
}

/** Access-control decisions: who may do what on which repository, and who may list the catalog. */
export class Policy {
  private readonly rules: readonly CompiledRule[];
  /** user -> the groups they belong to */
  private readonly memberships = new Map<string, Set<string>>();

  constructor(private readonly definition: PolicyDefinition) {
    for (const [group, members] of definition.groups) {
      for (const member of members) {
        let groups = this.memberships.get(member);
        if (!groups) this.memberships.set(member, (groups = new Set()));
        groups.add(group);
      }
    }
    this.rules = definition.rules.map((rule) => ({
      audience: rule,
      matchers: rule.repositories.map(compileGlob),
      actions: rule.actions,
    }));
  }

  /** The union of the actions of every rule that applies to the subject and matches the repository. */
  allowed(subject: Subject, repository: string): Set<RepositoryAction> {
    const actions = new Set<RepositoryAction>();
    for (const rule of this.rules) {
      if (!this.appliesTo(rule.audience, subject)) continue;
      if (!rule.matchers.some((matches) => matches(repository))) continue;
      for (const action of rule.actions) actions.add(action);
    }
    return actions;
  }

  /** Whether the subject may list `/v2/_catalog` (which then shows only what they may pull). */
  canListCatalog(subject: Subject): boolean {
    return this.appliesTo(this.definition.catalog, subject);
  }

  /**
   * What to put in a token for a request of `requested`: per resource, the intersection of the requested
   * actions and the allowed ones (`*` asks for all the subject has). Repositories whose name is not a
   * valid repository name get nothing; `registry:catalog:*` is granted to those who may list the catalog.
   * Entries left without actions are dropped; a partial grant is not an error.
   */
  grant(subject: Subject, requested: readonly Access[]): Access[] {
    const granted: Access[] = [];
    for (const entry of mergeAccess(requested)) {
      if (entry.type === 'repository') {
        if (!isRepositoryName(entry.name)) continue;
        const allowed = this.allowed(subject, entry.name);
        const actions = entry.actions.includes('*')
          ? REPOSITORY_ACTIONS.filter((action) => allowed.has(action))
          : entry.actions.filter((action): action is RepositoryAction => allowed.has(action as RepositoryAction));
        if (actions.length > 0) granted.push({ type: 'repository', name: entry.name, actions });
      } else if (entry.name === 'catalog' && entry.actions.includes('*') && this.canListCatalog(subject)) {
        granted.push({ type: 'registry', name: 'catalog', actions: ['*'] });
      }
    }
    return granted;
  }

  /** Every user the policy names (in groups, rules or the catalog), e.g. to warn about users unknown to htpasswd. */
  namedUsers(): string[] {
    const names = new Set<string>(this.memberships.keys());
    for (const rule of this.definition.rules) rule.users.forEach((user) => names.add(user));
    this.definition.catalog.users.forEach((user) => names.add(user));
    return [...names];
  }

  private appliesTo(audience: Audience, subject: Subject): boolean {
    if (audience.anonymous) return true;
    const user = subject.user;
    if (user === undefined || user === '') return false;
    if (audience.authenticated) return true;
    if (audience.users.includes(user)) return true;
    const groups = this.memberships.get(user);
    return groups !== undefined && audience.groups.some((group) => groups.has(group));
  }
}

/**
 * Reads a policy file's YAML text (see `policy-document.ts` for the format). Throws `PolicyError`
 * naming what is wrong: an unknown key, action or group, a bad pattern, a rule that selects nobody.
 */
export function parsePolicy(yamlText: string): Policy {
  return new Policy(parsePolicyDocument(yamlText));
}

/**
 * The policy without a policy file, Distribution's htpasswd behaviour: every signed-in user may pull, push
 * and delete everywhere and list the catalog; anonymous requests may do nothing.
 */
export function defaultPolicy(): Policy {
  const everyone: Audience = { users: [], groups: [], anonymous: false, authenticated: true };
  return new Policy({
    groups: new Map(),
    rules: [{ ...everyone, repositories: ['**'], actions: [...REPOSITORY_ACTIONS] }],
    catalog: everyone,
  });
}
