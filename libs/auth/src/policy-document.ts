import { parse } from 'yaml';
import { REPOSITORY_ACTIONS, RepositoryAction } from './scope';
import { globProblem } from './glob';
import type { Audience, PolicyDefinition, PolicyRule } from './policy';

/**
 * The policy file format:
 *
 *   groups:                      # optional: group name -> its users
 *     admins: [alice]
 *   rules:                       # required: each grants actions on repositories to an audience
 *     - repositories: ["**"]     # globs: `*` within one path component, `**` across components
 *       groups: [admins]         # and/or users: [...], anonymous: true (anyone), authenticated: true
 *       actions: [pull, push, delete]   # or [*] for all three
 *   catalog:                     # optional: who may list /v2/_catalog; absent means nobody
 *     users: [alice]
 *     groups: [admins]
 *     authenticated: false
 *
 * A list with a single entry may also be written as a plain string. Unknown keys are errors, so a typo
 * cannot silently drop a rule's audience.
 */

/** A policy file that cannot be used; the message says where (`rules[1].actions`) and what. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

type Mapping = Record<string, unknown>;

const RULE_KEYS = ['repositories', 'actions', 'users', 'groups', 'anonymous', 'authenticated'];
const CATALOG_KEYS = ['users', 'groups', 'anonymous', 'authenticated'];
const TOP_KEYS = ['groups', 'rules', 'catalog'];

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

function mapping(value: unknown, where: string, keys: readonly string[]): Mapping {
  if (!isMapping(value)) throw new PolicyError(`${where}: expected a mapping, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new PolicyError(`${where}: unknown key "${key}" (expected ${keys.join(', ')})`);
  }
  return value;
}

/** A list of non-empty strings (a lone string counts as a list of one); absent gives []. */
function strings(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new PolicyError(`${where}: expected a list of strings, got ${describe(value)}`);
  return list.map((item, index) => {
    if (typeof item !== 'string' || item === '') {
      throw new PolicyError(`${where}[${index}]: expected a non-empty string, got ${describe(item)}`);
    }
    return item;
  });
}

function flag(value: unknown, where: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new PolicyError(`${where}: expected true or false, got ${describe(value)}`);
  return value;
}

function isRepositoryAction(value: string): value is RepositoryAction {
  return (REPOSITORY_ACTIONS as readonly string[]).includes(value);
}

function actions(value: unknown, where: string): RepositoryAction[] {
  const list = strings(value, where);
  if (list.length === 0) throw new PolicyError(`${where}: at least one action is needed`);
  const result = new Set<RepositoryAction>();
  for (const action of list) {
    if (action === '*') REPOSITORY_ACTIONS.forEach((each) => result.add(each));
    else if (isRepositoryAction(action)) result.add(action);
    else throw new PolicyError(`${where}: unknown action "${action}" (expected pull, push, delete or *)`);
  }
  return REPOSITORY_ACTIONS.filter((action) => result.has(action));
}

function audience(value: Mapping, where: string, groups: ReadonlyMap<string, readonly string[]>): Audience {
  const named = strings(value['groups'], `${where}.groups`);
  for (const group of named) {
    if (!groups.has(group)) throw new PolicyError(`${where}.groups: unknown group "${group}"`);
  }
  return {
    users: strings(value['users'], `${where}.users`),
    groups: named,
    anonymous: flag(value['anonymous'], `${where}.anonymous`),
    authenticated: flag(value['authenticated'], `${where}.authenticated`),
  };
}

function rule(value: unknown, where: string, groups: ReadonlyMap<string, readonly string[]>): PolicyRule {
  const raw = mapping(value, where, RULE_KEYS);
  const repositories = strings(raw['repositories'], `${where}.repositories`);
  if (repositories.length === 0) throw new PolicyError(`${where}.repositories: at least one pattern is needed`);
  for (const pattern of repositories) {
    const problem = globProblem(pattern);
    if (problem !== undefined) throw new PolicyError(`${where}.repositories: bad pattern "${pattern}": ${problem}`);
  }
  const who = audience(raw, where, groups);
  if (!who.anonymous && !who.authenticated && who.users.length === 0 && who.groups.length === 0) {
    throw new PolicyError(`${where}: the rule applies to nobody (give users, groups, anonymous or authenticated)`);
  }
  return { ...who, repositories, actions: actions(raw['actions'], `${where}.actions`) };
}

function parseGroups(value: unknown): Map<string, readonly string[]> {
  const groups = new Map<string, readonly string[]>();
  if (value === undefined || value === null) return groups;
  if (!isMapping(value)) throw new PolicyError(`groups: expected a mapping, got ${describe(value)}`);
  for (const [name, members] of Object.entries(value)) {
    if (name === '') throw new PolicyError('groups: a group has an empty name');
    groups.set(name, strings(members, `groups.${name}`));
  }
  return groups;
}

/** Parses and validates a policy file's YAML text. */
export function parsePolicyDocument(yamlText: string): PolicyDefinition {
  let document: unknown;
  try {
    document = parse(yamlText, { maxAliasCount: 100 });
  } catch (error) {
    throw new PolicyError(`policy is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (document === undefined || document === null) throw new PolicyError('policy is empty');
  const top = mapping(document, 'policy', TOP_KEYS);
  const groups = parseGroups(top['groups']);
  if (!Array.isArray(top['rules'])) {
    throw new PolicyError(`rules: expected a list of rules, got ${describe(top['rules'])}`);
  }
  const rules = top['rules'].map((each, index) => rule(each, `rules[${index}]`, groups));
  const catalog =
    top['catalog'] === undefined || top['catalog'] === null
      ? { users: [], groups: [], anonymous: false, authenticated: false }
      : audience(mapping(top['catalog'], 'catalog', CATALOG_KEYS), 'catalog', groups);
  return { groups, rules, catalog };
}
