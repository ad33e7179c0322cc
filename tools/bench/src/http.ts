/**
 * A lean HTTP/1.1 client on node:http with a keep-alive agent (one socket per concurrent worker): the load
 * generator shares the CPU with the registry, so it does as little as it can, the same for both registries.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent, ClientRequest, IncomingHttpHeaders, OutgoingHttpHeaders, request } from 'node:http';
import { OffThreadHasher } from './off-thread-hash';

/**
 * Bodies from this size on are hashed on a worker thread (see off-thread-hash.ts); smaller ones inline, where
 * handing them over cost more than it saved (1 MiB pulls: 244 and 286 MB/s through the worker against 297 and
 * 370 inline; 256 MiB: 710 and 631 against 608 and 562).
 */
const OFF_THREAD_MIN = 4 * 1024 * 1024;
const offThread = new OffThreadHasher();

/** Stops the hashing worker thread (it is started again if needed). */
export function stopHashing(): Promise<void> {
  return offThread.close();
}

export interface HttpClient {
  base: URL;
  agent: Agent;
  authorization?: string;
}

export function createClient(baseUrl: string, sockets: number, user?: string, password?: string): HttpClient {
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:') throw new Error(`only http:// registries are supported: ${baseUrl}`);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, scheduling: 'lifo' });
  const authorization = user !== undefined ? `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` : undefined;
  return { base, agent, ...(authorization ? { authorization } : {}) };
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body when it was collected, else empty. */
  body: Buffer;
  /** Bytes received in the body. */
  length: number;
  /** sha256:<hex> of the body when it was hashed. */
  digest?: string;
}

export type BodyWriter = (req: ClientRequest) => Promise<void>;

export interface RequestOptions {
  headers?: OutgoingHttpHeaders;
  body?: Buffer | BodyWriter;
  /** What to do with the response body: keep it, hash it, or only count it. */
  response?: 'collect' | 'hash' | 'count';
}

/** Writes the chunks with back-pressure, then ends the request. */
export function writeChunks(chunks: Iterable<Buffer>): BodyWriter {
  return async (req) => {
    for (const chunk of chunks) {
      if (!req.write(chunk)) await once(req, 'drain');
    }
    req.end();
  };
}

/** Path + query of a Location header (absolute or relative) relative to the client's base URL. */
export function pathOfLocation(client: HttpClient, location: string): string {
  const url = new URL(location, client.base);
  return `${url.pathname}${url.search}`;
}

/** Appends a query parameter to a path that may already have a query. */
export function withQuery(path: string, name: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}

export function send(client: HttpClient, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (client.authorization) headers['authorization'] = client.authorization;
  const body = options.body;
  if (Buffer.isBuffer(body)) headers['content-length'] = body.length;
  else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH') && headers['content-length'] === undefined) {
    headers['content-length'] = 0;
  }
  return new Promise<Response>((resolve, reject) => {
    const req = request(
      { host: client.base.hostname, port: client.base.port, method, path, headers, agent: client.agent },
      (res) => {
        const mode = options.response ?? 'collect';
        const chunks: Buffer[] = [];
        const declared = Number(res.headers['content-length']);
        const offThreadDigest = mode === 'hash' && declared >= OFF_THREAD_MIN ? offThread.digestOf(res) : undefined;
        // A failed response rejects the request below; its digest is then of no interest (never left unhandled).
        offThreadDigest?.catch(() => undefined);
        const hash = mode === 'hash' && !offThreadDigest ? createHash('sha256') : undefined;
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (hash) hash.update(chunk);
          else if (mode === 'collect') chunks.push(chunk);
        });
        res.once('error', reject);
        res.once('end', () => {
          const response = { status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), length };
          if (offThreadDigest) offThreadDigest.then((digest) => resolve({ ...response, digest: `sha256:${digest}` }), reject);
          else resolve({ ...response, ...(hash ? { digest: `sha256:${hash.digest('hex')}` } : {}) });
        });
      },
    );
    req.once('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body(req).catch((error: unknown) => {
      req.destroy(error instanceof Error ? error : new Error(String(error)));
      reject(error);
    });
  });
}

/** Thrown when a response is not what the protocol requires: counted as an error of the scenario. */
export class CheckError extends Error {
  override name = 'CheckError';
}

export function expectStatus(res: Response, status: number, what: string): void {
  if (res.status !== status) {
    const detail = res.body.length > 0 ? `: ${res.body.toString('utf8', 0, 300)}` : '';
    throw new CheckError(`${what}: status ${res.status}, expected ${status}${detail}`);
  }
}

export function expectHeader(res: Response, name: string, value: string | undefined, what: string): string {
  const actual = res.headers[name];
  const text = Array.isArray(actual) ? actual[0] : actual;
  if (text === undefined || (value !== undefined && text !== value)) {
    throw new CheckError(`${what}: header ${name} is ${JSON.stringify(text)}, expected ${value === undefined ? 'a value' : JSON.stringify(value)}`);
  }
  return text;
}
