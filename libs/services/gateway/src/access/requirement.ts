import type { Access } from '@ocireg/auth';
import type { V2Route } from '../routes';
import type { Action } from './caller';

/** What a request needs from its caller, decided from its route and method alone. */
export type Requirement =
  | { kind: 'login' }
  | { kind: 'catalog' }
  | { kind: 'repository'; name: string; actions: Action[] };

/** Distribution's mapping: reads need pull; writes need pull and push; deletes need delete. */
export function requirementOf(route: V2Route, method: string): Requirement {
  switch (route.kind) {
    case 'base':
      return { kind: 'login' };
    case 'catalog':
      return { kind: 'catalog' };
    case 'tags':
    case 'referrers':
      return { kind: 'repository', name: route.name, actions: ['pull'] };
    case 'blob':
    case 'manifest':
      if (method === 'DELETE') return { kind: 'repository', name: route.name, actions: ['delete'] };
      if (method === 'PUT') return { kind: 'repository', name: route.name, actions: ['pull', 'push'] };
      return { kind: 'repository', name: route.name, actions: ['pull'] };
    case 'uploads':
    case 'upload':
      return { kind: 'repository', name: route.name, actions: ['pull', 'push'] };
  }
}

/** The requirement as token scopes (`repository:<name>:pull,push`, `registry:catalog:*`). */
export function accessOf(requirement: Requirement): Access[] {
  switch (requirement.kind) {
    case 'login':
      return [];
    case 'catalog':
      return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
    case 'repository':
      return [{ type: 'repository', name: requirement.name, actions: [...requirement.actions] }];
  }
}
