import { request } from 'node:http';

/** One entry of the OCI error envelope `{"errors":[{"code","message","detail"}]}`. */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

/**
 * Checks a body against the spec's error envelope: JSON, an `errors` array that is not empty, each entry
 * with a `code` of uppercase letters and underscores and, when present, a string `message`.
 * Returns the entries, or a sentence saying what is wrong.
 */
export function parseErrorEnvelope(text: string): RegistryErrorEntry[] | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `the body is not JSON: ${JSON.stringify(text.slice(0, 200))}`;
  }
  const errors = typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errors) || errors.length === 0) return `no "errors" list in ${text.slice(0, 200)}`;
  const entries: RegistryErrorEntry[] = [];
  for (const entry of errors as unknown[]) {
    const candidate = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const code = candidate['code'];
    const message = candidate['message'];
    if (typeof code !== 'string' || !/^[A-Z_]+$/.test(code)) return `an error without a valid "code": ${JSON.stringify(entry)}`;
    if (message !== undefined && typeof message !== 'string') return `an error whose "message" is not a string: ${JSON.stringify(entry)}`;
    entries.push({ code, message, detail: candidate['detail'] });
  }
  return entries;
}

/** The error codes of a response body (throws when it is not the spec's envelope). */
export async function errorCodesOf(response: Response): Promise<string[]> {
  const parsed = parseErrorEnvelope(await response.text());
  if (typeof parsed === 'string') throw new Error(`${response.status}: ${parsed}`);
  return parsed.map((e) => e.code);
}

/** The absolute URL of the RFC 5988 `Link: <...>; rel="next"` of a response, resolved against `base`. */
export function nextLink(response: Response, base: string): string | undefined {
  const header = response.headers.get('link');
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match?.[1] !== undefined && /;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/.test(match[2] ?? '')) {
      return new URL(match[1], base).toString();
    }
  }
  return undefined;
}

/** A `Location` header (absolute or relative) as an absolute URL. */
export function absoluteLocation(base: string, location: string | null): string {
  if (!location) throw new Error('the response has no Location header');
  return new URL(location, base).toString();
}

/** Adds query parameters to a URL that may already carry some (a `<blob-push-location>` MAY). */
export function withQuery(url: string, params: Record<string, string>): string {
  const result = new URL(url);
  for (const [key, value] of Object.entries(params)) result.searchParams.append(key, value);
  return result.toString();
}

/**
 * Bytes an upload holds according to its `Range: 0-<end>` header. `0-0` is read as an empty upload
 * (Distribution's convention: it answers `0-0` both before the first byte and after one byte).
 */
export function uploadedBytes(range: string | null): number {
  const match = /^0-(\d+)$/.exec(range ?? '');
  if (!match?.[1]) throw new Error(`not an upload Range header: ${range}`);
  const end = Number(match[1]);
  return end === 0 ? 0 : end + 1;
}

/** POST /v2/<name>/blobs/uploads/ (with `Content-Length: 0`, as a chunked upload's POST MUST have). */
export function startUpload(url: string, name: string, query: Record<string, string> = {}): Promise<Response> {
  const target = withQuery(`${url}/v2/${name}/blobs/uploads/`, query);
  return fetch(target, { method: 'POST', headers: { 'content-length': '0' } });
}

/** PATCH one chunk at `start` to an upload location, with Content-Type, Content-Range and Content-Length. */
export function patchChunk(location: string, bytes: Buffer, start: number): Promise<Response> {
  return fetch(location, {
    method: 'PATCH',
    headers: {
      'content-type': 'application/octet-stream',
      'content-range': `${start}-${start + bytes.length - 1}`,
      'content-length': String(bytes.length),
    },
    body: bytes,
  });
}

/**
 * Starts a PATCH announcing `contentLength` bytes, sends only `partial`, waits, then destroys the socket:
 * a client whose connection dropped mid-chunk. Resolves with the status if the registry answered before the
 * socket was destroyed (it should not: the body is incomplete), undefined otherwise.
 */
export function interruptedPatch(
  location: string,
  options: { contentRange: string; contentLength: number; partial: Buffer; waitMs?: number },
): Promise<number | undefined> {
  return new Promise((resolve) => {
    let answered: number | undefined;
    const req = request(location, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': options.contentRange,
        'content-length': String(options.contentLength),
      },
    });
    req.on('response', (res) => {
      answered = res.statusCode;
      res.resume();
    });
    req.on('error', () => undefined);
    req.on('close', () => resolve(answered));
    req.write(options.partial, () => {
      setTimeout(() => req.destroy(), options.waitMs ?? 300);
    });
  });
}
