/**
 * Shared harness of the conformance suite (apps/registry-e2e/src/conformance/*.e2e-spec.ts).
 *
 * Each spec file runs its tests against both run modes, one registry per mode, started with deletes enabled.
 * While a registry of the suite is up, every `fetch` goes through a guard that records two kinds of
 * violation, and each test fails in its afterEach when one was recorded during it:
 * - any 5xx answer (a conformant registry answers every request of the suite with a 2xx or a 4xx);
 * - an error status (4xx/5xx, except to HEAD) whose body is not the spec's JSON envelope
 *   `{"errors":[{"code":"<UPPER_CASE>","message":"...","detail":...}]}` (spec "Error Codes");
 * - a `Warning` header not of the form `299 - "<text>"` or over 4096 bytes (spec "Warnings"), a 429 without
 *   `Retry-After`.
 */
import { RunMode, StartOptions, TestRegistry, errorCodesOf, parseErrorEnvelope, startRegistry } from '@ocireg/testing';

export const MODES: RunMode[] = ['embedded', 'distributed'];

/** What the main registries of the suite run with: deletes on (Content Management is claimed). */
export const SUITE_ENV: Record<string, string> = { REGISTRY_STORAGE_DELETE_ENABLED: 'true' };

/** Media types a client that understands every manifest the registry stores sends in `Accept`. */
export const ACCEPT_ALL_MANIFESTS = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

class ResponseGuard {
  private readonly realFetch = globalThis.fetch;
  private violations: string[] = [];
  private active = false;

  install(): void {
    this.active = true;
    globalThis.fetch = (input, init) => this.guarded(input, init);
  }

  uninstall(): void {
    this.active = false;
    globalThis.fetch = this.realFetch;
  }

  /** Runs `work` without recording (a registry's start-up probes may legitimately see a 503). */
  async unguarded<T>(work: () => Promise<T>): Promise<T> {
    const was = this.active;
    this.active = false;
    try {
      return await work();
    } finally {
      this.active = was;
    }
  }

  /** Violations since the last call, cleared. */
  take(): string[] {
    const found = this.violations;
    this.violations = [];
    return found;
  }

  private async guarded(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const response = await this.realFetch(input, init);
    if (!this.active) return response;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const target = input instanceof Request ? input.url : input.toString();
    const where = `${method} ${target.replace(/^https?:\/\/[^/]+/, '')} -> ${response.status}`;
    const warning = response.headers.get('warning');
    if (warning !== null) {
      // "Warning headers MUST specify a warn-code of 299 and a warn-agent of -, and MUST NOT specify a warn-date";
      // "A registry MUST NOT send more than 4096 bytes of warning data from all headers combined."
      const each = warning.split(/,(?=\s*\d{3}\s)/).map((w) => w.trim());
      if (!each.every((w) => /^299 - "(?:[^"\\]|\\.)*"$/.test(w))) this.violations.push(`${where}: malformed Warning header ${warning}`);
      if (Buffer.byteLength(warning) > 4096) this.violations.push(`${where}: more than 4096 bytes of Warning`);
    }
    if (response.status === 429 && response.headers.get('retry-after') === null) {
      this.violations.push(`${where}: a 429 "SHOULD include a Retry-After header"`);
    }
    if (response.status < 400) return response;
    const text = method === 'HEAD' ? '' : await response.clone().text();
    if (response.status >= 500) this.violations.push(`${where}: a 5xx answer ${text.slice(0, 300)}`);
    if (method !== 'HEAD') {
      const parsed = parseErrorEnvelope(text);
      if (typeof parsed === 'string') this.violations.push(`${where}: not the spec's error envelope: ${parsed}`);
    }
    return response;
  }
}

const guard = new ResponseGuard();

export interface RegistryHandle {
  readonly url: string;
  readonly registry: TestRegistry;
}

function handleOf(get: () => TestRegistry | undefined): RegistryHandle {
  const registry = () => {
    const started = get();
    if (!started) throw new Error('the registry has not started');
    return started;
  };
  return {
    get url() {
      return registry().url;
    },
    get registry() {
      return registry();
    },
  };
}

/**
 * The registry of a describe block: started once (deletes enabled unless `env` says otherwise), stopped
 * after; every test of the block (and of nested blocks) fails on a 5xx or a malformed error body.
 */
export function useRegistry(mode: RunMode, options: StartOptions = {}): RegistryHandle {
  let registry: TestRegistry | undefined;
  beforeAll(async () => {
    registry = await startRegistry(mode, { ...options, env: { ...SUITE_ENV, ...options.env } });
    guard.install();
  }, 120_000);
  afterEach(() => {
    const violations = guard.take();
    expect(violations).toEqual([]);
  });
  afterAll(async () => {
    guard.uninstall();
    await registry?.stop();
  }, 60_000);
  return handleOf(() => registry);
}

/** A second registry inside a block that already has one (its start-up is not guarded; its answers are). */
export function useExtraRegistry(mode: RunMode, options: StartOptions): RegistryHandle {
  let registry: TestRegistry | undefined;
  beforeAll(async () => {
    registry = await guard.unguarded(() => startRegistry(mode, options));
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
  }, 60_000);
  return handleOf(() => registry);
}

/** Asserts the status; on a mismatch the failure shows the body the registry sent. Does not consume the body. */
export async function expectStatus(response: Response, ...statuses: number[]): Promise<void> {
  if (statuses.includes(response.status)) return;
  const body = response.bodyUsed ? '(already read)' : await response.clone().text();
  const expected = statuses.length === 1 ? statuses[0] : `one of ${statuses.join(', ')}`;
  expect({ status: response.status, body }).toEqual({ status: expected, body });
}

/**
 * Asserts an error answer: the status (one of `statuses`) and, unless it answers a HEAD, that one of the
 * envelope's codes is one of `codes`. Consumes the body.
 */
export async function expectError(response: Response, statuses: number | number[], codes: string | string[], head = false): Promise<void> {
  await expectStatus(response, ...(Array.isArray(statuses) ? statuses : [statuses]));
  if (head) return;
  const allowed = Array.isArray(codes) ? codes : [codes];
  const received = await errorCodesOf(response);
  expect(received).toContainEqual(expect.stringMatching(new RegExp(`^(${allowed.join('|')})$`)));
}

const UNCOMPARED_HEADERS = new Set(['date', 'connection', 'keep-alive', 'x-request-id']);

/** A response's header fields, for comparing a HEAD with its GET (Date/Connection/Keep-Alive and the per-request X-Request-Id left out). */
export function comparableHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => !UNCOMPARED_HEADERS.has(name.toLowerCase())).sort());
}

export async function bytesOf(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

/** The media type of a Content-Type header, without parameters. */
export function mediaTypeOf(contentType: string | null): string | undefined {
  return contentType?.split(';')[0]?.trim();
}
