import { MediaTypes } from '@ocireg/oci';

/** Accept headers seen lately and what they accept: a client sends the same one with every request. */
const parsedAccepts = new Map<string, ReadonlySet<string> | undefined>();
const PARSED_ACCEPTS_MAX = 256;

/**
 * The media types a client accepts, from its Accept header(s): undefined when it accepts anything
 * (no header, or a wildcard). Types with q=0 are refused, as HTTP says.
 */
export function acceptedTypes(header: string | string[] | undefined): ReadonlySet<string> | undefined {
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  if (parsedAccepts.has(joined)) return parsedAccepts.get(joined);
  const accepted = parseAccept(joined);
  if (parsedAccepts.size >= PARSED_ACCEPTS_MAX) parsedAccepts.clear();
  parsedAccepts.set(joined, accepted);
  return accepted;
}

function parseAccept(header: string): ReadonlySet<string> | undefined {
  const accepted = new Set<string>();
  for (const value of header.split(',')) {
    const [type, ...params] = value.split(';').map((part) => part.trim().toLowerCase());
    if (!type) continue;
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    if (type === '*/*' || type === 'application/*') return undefined;
    accepted.add(type);
  }
  return accepted.size === 0 ? undefined : accepted;
}

interface IndexEntry {
  mediaType?: unknown;
  digest?: unknown;
  platform?: { os?: unknown; architecture?: unknown };
}

/**
 * For a client that accepts image manifests but not the index (or manifest list) a tag points at: the
 * linux/amd64 entry it can take, as Distribution answers such clients for backward compatibility.
 */
export function fallbackChild(index: Buffer, accepted: ReadonlySet<string>): string | undefined {
  let entries: IndexEntry[];
  try {
    const parsed = JSON.parse(index.toString('utf8')) as { manifests?: unknown };
    entries = Array.isArray(parsed.manifests) ? (parsed.manifests as IndexEntry[]) : [];
  } catch {
    return undefined;
  }
  const match = entries.find(
    (entry) =>
      entry.platform?.os === 'linux' &&
      entry.platform?.architecture === 'amd64' &&
      typeof entry.mediaType === 'string' &&
      accepted.has(entry.mediaType) &&
      typeof entry.digest === 'string',
  );
  return match?.digest as string | undefined;
}

export function isIndexType(mediaType: string): boolean {
  return mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList;
}
