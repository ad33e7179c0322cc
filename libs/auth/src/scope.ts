/**
 * Docker token scopes (`repository:samalba/my-app:pull,push`, `registry:catalog:*`) and the `access` claim
 * they become in a token. Grammar from the distribution token scope spec:
 *
 *   scope         := resourcescope [ ' ' resourcescope ]*
 *   resourcescope := resourcetype ":" resourcename ":" action [ ',' action ]*
 *   resourcetype  := /[a-z0-9]+/ [ '(' /[a-z0-9]+/ ')' ]      (the class is deprecated and ignored)
 *   resourcename  := [ hostname '/' ] component [ '/' component ]*
 *
 * The name may hold one ':' (a host's port), so a scope is split at its first and its last ':'.
 */

export type ResourceType = 'repository' | 'registry';

/** One entry of the JWT `access` claim: a resource and the actions allowed (or asked for) on it. */
export interface Access {
  type: ResourceType;
  name: string;
  actions: string[];
}

/** The actions a repository knows; `*` in a scope asks for all of them. */
export const REPOSITORY_ACTIONS = ['pull', 'push', 'delete'] as const;
export type RepositoryAction = (typeof REPOSITORY_ACTIONS)[number];

/** The scope that `GET /v2/_catalog` needs. */
export const CATALOG_ACCESS: Readonly<Access> = Object.freeze({ type: 'registry', name: 'catalog', actions: ['*'] });

/** A scope that does not follow the grammar. The message names the scope (scopes are not secret). */
export class ScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScopeError';
  }
}

const RESOURCE_TYPE = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/;
const HOST_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOSTNAME = `${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*(?::[0-9]+)?`;
const COMPONENT = '[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^(?:${HOSTNAME}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const ACTION = /^(?:[a-z]*|\*)$/;
/** Distribution's limit on a reference name; longer scopes are refused before any regex runs. */
const MAX_NAME_LENGTH = 255;
const MAX_SCOPE_LENGTH = 1024;
const KNOWN_TYPES: readonly string[] = ['repository', 'registry'];

function isResourceType(value: string): value is ResourceType {
  return KNOWN_TYPES.includes(value);
}

/** Whether `name` follows the scope grammar's `resourcename`. */
export function isResourceName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

/** Parses one `type:name:actions` scope. Empty actions are dropped, duplicates removed, order kept. */
export function parseScope(text: string): Access {
  if (text.length === 0 || text.length > MAX_SCOPE_LENGTH) throw new ScopeError('invalid scope: empty or too long');
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first < 0 || last === first) throw new ScopeError(`invalid scope "${text}": expected type:name:actions`);
  const typeText = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const actionsText = text.slice(last + 1);

  const typeMatch = RESOURCE_TYPE.exec(typeText);
  if (!typeMatch) throw new ScopeError(`invalid scope "${text}": bad resource type`);
  // The resource class (`repository(plugin)`) is deprecated and ignored.
  const type = typeMatch[1];
  if (!isResourceType(type)) throw new ScopeError(`invalid scope "${text}": unknown resource type "${type}"`);
  if (!isResourceName(name)) throw new ScopeError(`invalid scope "${text}": bad resource name`);

  const actions: string[] = [];
  for (const action of actionsText.split(',')) {
    if (!ACTION.test(action)) throw new ScopeError(`invalid scope "${text}": bad action "${action}"`);
    if (action !== '' && !actions.includes(action)) actions.push(action);
  }
  return { type, name, actions };
}

/**
 * Parses a `scope` parameter: one string of space-separated scopes, or several (the `scope` query parameter
 * repeated). Entries for the same resource are merged. Missing or blank input gives no scopes.
 */
export function parseScopes(input: string | readonly string[] | undefined): Access[] {
  if (input === undefined) return [];
  const texts = typeof input === 'string' ? [input] : input;
  const scopes: Access[] = [];
  for (const text of texts) {
    for (const part of text.split(' ')) if (part !== '') scopes.push(parseScope(part));
  }
  return mergeAccess(scopes);
}

/** `type:name:action,action`. */
export function formatScope(access: Access): string {
  return `${access.type}:${access.name}:${access.actions.join(',')}`;
}

/** Space-separated scopes, the value of a challenge's `scope` parameter or a token response's `scope`. */
export function formatScopes(list: readonly Access[]): string {
  return mergeAccess(list)
    .map(formatScope)
    .join(' ');
}

/** Merges entries that name the same resource (union of their actions), keeping first-seen order. */
export function mergeAccess(list: readonly Access[]): Access[] {
  const merged = new Map<string, Access>();
  for (const entry of list) {
    const key = `${entry.type}\u0000${entry.name}`;
    let target = merged.get(key);
    if (!target) {
      target = { type: entry.type, name: entry.name, actions: [] };
      merged.set(key, target);
    }
    for (const action of entry.actions) if (!target.actions.includes(action)) target.actions.push(action);
  }
  return [...merged.values()];
}

/**
 * Whether the granted access (a token's `access` claim) allows `action` on a resource. A granted `*`
 * allows any action on that resource, as in Distribution's access controller.
 */
export function hasAccess(granted: readonly Access[], type: ResourceType, name: string, action: string): boolean {
  return granted.some(
    (entry) => entry.type === type && entry.name === name && (entry.actions.includes(action) || entry.actions.includes('*')),
  );
}

/**
 * What of `required` the granted access lacks, merged per resource: empty when the request may proceed,
 * otherwise exactly the scopes to put in an `insufficient_scope` challenge.
 */
export function missingAccess(granted: readonly Access[], required: readonly Access[]): Access[] {
  const missing: Access[] = [];
  for (const entry of mergeAccess(required)) {
    const lacking = entry.actions.filter((action) => !hasAccess(granted, entry.type, entry.name, action));
    if (lacking.length > 0) missing.push({ type: entry.type, name: entry.name, actions: lacking });
  }
  return missing;
}
