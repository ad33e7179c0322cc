import { RegistryError } from '@ocireg/errors';
import { isRepositoryName } from '@ocireg/oci';

/** Every endpoint of the /v2 API, parsed from the path once, so handlers get typed values. */
export type V2Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

const ROUTES: Array<{ pattern: RegExp; build: (name: string, rest: string) => V2Route }> = [
  { pattern: /^(.+)\/tags\/list$/, build: (name) => ({ kind: 'tags', name }) },
  { pattern: /^(.+)\/manifests\/([^/]+)$/, build: (name, reference) => ({ kind: 'manifest', name, reference }) },
  { pattern: /^(.+)\/blobs\/uploads\/?$/, build: (name) => ({ kind: 'uploads', name }) },
  { pattern: /^(.+)\/blobs\/uploads\/([^/]+)$/, build: (name, id) => ({ kind: 'upload', name, id }) },
  { pattern: /^(.+)\/blobs\/([^/]+)$/, build: (name, digest) => ({ kind: 'blob', name, digest }) },
  { pattern: /^(.+)\/referrers\/([^/]+)$/, build: (name, digest) => ({ kind: 'referrers', name, digest }) },
];

/** Parses the path of a /v2 request (without the query string). Throws the right registry error. */
export function parseV2Path(path: string): V2Route {
  if (path === '/v2' || path === '/v2/') return { kind: 'base' };
  if (!path.startsWith('/v2/')) throw new RegistryError('ROUTE_UNKNOWN');
  // Match on the raw path, then decode each part: an escaped '/' inside a part never moves a boundary.
  const rest = path.slice(4);
  if (rest === '_catalog') return { kind: 'catalog' };
  for (const { pattern, build } of ROUTES) {
    const match = pattern.exec(rest);
    if (!match?.[1]) continue;
    const name = decode(match[1]);
    if (!isRepositoryName(name)) throw new RegistryError('NAME_INVALID', undefined, { name: match[1] });
    return build(name, decode(match[2] ?? ''));
  }
  throw new RegistryError('ROUTE_UNKNOWN');
}

function decode(part: string): string {
  if (!part.includes('%')) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RegistryError('ROUTE_UNKNOWN');
  }
}

/** Methods each endpoint answers (HEAD listed explicitly where the spec has it). */
export const ROUTE_METHODS: Record<V2Route['kind'], readonly string[]> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET'],
  tags: ['GET'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
  referrers: ['GET'],
};

/**
 * A bounded label for a request path (metrics): the /v2 route's kind, `token` for the token endpoint,
 * `invalid` for a /v2 path that is no route, `other` for the rest. Never the name, digest or id.
 */
export function routeKindOf(url: string): string {
  // Asked three times per request (metrics, tracing, access log) with the same URL: remembered a while.
  let kind = recentKinds.get(url);
  if (kind === undefined) {
    kind = kindOfUrl(url);
    if (recentKinds.size >= RECENT_KINDS) recentKinds.clear();
    recentKinds.set(url, kind);
  }
  return kind;
}

const RECENT_KINDS = 1024;
const recentKinds = new Map<string, string>();

function kindOfUrl(url: string): string {
  const path = url.split('?')[0] ?? '';
  if (path === '/auth/token') return 'token';
  if (path !== '/v2' && !path.startsWith('/v2/')) return 'other';
  try {
    return parseV2Path(path).kind;
  } catch {
    return 'invalid';
  }
}
