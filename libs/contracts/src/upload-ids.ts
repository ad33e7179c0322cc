import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A signed id is a UUID (the OCI spec: the upload's location "MUST contain a UUID") of version 8, the one
 * RFC 9562 leaves to custom layouts: 30 of its hex digits are a nonce (14), the issue time in seconds (8) and
 * an HMAC of both and the repository (8); the version digit and the variant digit are both 8. The ids of
 * stored sessions are random UUIDs (version 4), never of this shape.
 */
const SIGNED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/;
const NONCE_DIGITS = 14;
const TIME_DIGITS = 8;
const MAC_DIGITS = 8;
/** How far in the future an issue time may lie (replicas' clocks differ a little). */
const CLOCK_SKEW_SECONDS = 300;
/**
 * How long an issued id stays valid without a first write (at most the upload TTL): clients write right after
 * the POST, and the mark left by an upload that ended has to outlive its id's validity, no longer.
 */
export const UNSTARTED_SECONDS = 3600;

/**
 * Upload ids that prove themselves, so that starting an upload costs no call and no write: the gateway issues
 * one at the POST (a nonce, the time, an HMAC of both and the repository under the registry's secret, as
 * Distribution signs the `_state` of its upload URLs with `http.secret`), and the upload service takes a signed
 * id it has no session for as an upload issued and not yet written to. Its session is stored at the first
 * write; when the upload ends, a mark stays in its place (UploadSession.ended) for as long as the id could
 * still be presented. Every replica of the gateway and of the upload service must share the secret.
 */
export class UploadIds {
  private readonly key: Buffer;

  /** `secret`: the registry's HTTP secret; `validSeconds`: how long an issued id stays valid without a first write. */
  constructor(
    secret: string,
    readonly validSeconds: number,
  ) {
    if (secret.length < 16) throw new Error('the HTTP secret must be at least 16 characters');
    this.key = Buffer.from(secret, 'utf8');
  }

  /** A new id for an upload into `repository`. */
  issue(repository: string, now = Date.now()): string {
    const body = randomBytes(NONCE_DIGITS / 2).toString('hex') + Math.floor(now / 1000).toString(16).padStart(TIME_DIGITS, '0').slice(-TIME_DIGITS);
    const digits = body + this.mac(repository, body);
    const hex = `${digits.slice(0, 12)}8${digits.slice(12, 15)}8${digits.slice(15)}`;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Whether `id` has the shape of a signed id (whoever signed it). */
  static isSigned(id: string): boolean {
    return SIGNED_ID.test(id);
  }

  /**
   * When `id` was issued (epoch milliseconds), if this registry issued it for `repository` and it has not
   * expired; undefined otherwise.
   */
  issuedAt(repository: string, id: string, now = Date.now()): number | undefined {
    if (!UploadIds.isSigned(id)) return undefined;
    const hex = id.replace(/-/g, '');
    const digits = hex.slice(0, 12) + hex.slice(13, 16) + hex.slice(17);
    const body = digits.slice(0, NONCE_DIGITS + TIME_DIGITS);
    const given = Buffer.from(digits.slice(body.length), 'hex');
    if (!timingSafeEqual(given, Buffer.from(this.mac(repository, body), 'hex'))) return undefined;
    const issued = parseInt(body.slice(NONCE_DIGITS), 16) * 1000;
    if (issued > now + CLOCK_SKEW_SECONDS * 1000 || issued + this.validSeconds * 1000 <= now) return undefined;
    return issued;
  }

  /**
   * How long the mark of an ended upload issued at `issuedAt` must stay (seconds, with the clock skew allowed),
   * or 0 when its id is no longer valid anyway and the session can simply go.
   */
  markSeconds(issuedAt: number, now = Date.now()): number {
    const left = Math.ceil((issuedAt + this.validSeconds * 1000 - now) / 1000);
    return left > 0 ? left + CLOCK_SKEW_SECONDS : 0;
  }

  private mac(repository: string, body: string): string {
    return createHmac('sha256', this.key).update(repository).update('\0').update(body).digest('hex').slice(0, MAC_DIGITS);
  }
}

/** Where the upload ids' secret comes from: given (every replica the same), or a file of this installation's own. */
export interface UploadIdSettings {
  secret?: string;
  /** Read, or created with a random secret when missing (the embedded registry: one process, its data dir). */
  secretFile?: string;
  /** The upload TTL: a signed id stays valid unused for this long, or UNSTARTED_SECONDS if shorter. */
  ttlSeconds: number;
}

/** The signer of upload ids for these settings; undefined when no secret is configured (sessions are then stored at the POST). */
export function uploadIdsFrom(settings: UploadIdSettings): UploadIds | undefined {
  const validSeconds = Math.min(settings.ttlSeconds, UNSTARTED_SECONDS);
  if (settings.secret !== undefined) return new UploadIds(settings.secret, validSeconds);
  if (settings.secretFile === undefined) return undefined;
  const secret = readOrCreateSecret(settings.secretFile);
  if (secret.length < 16) throw new Error(`${settings.secretFile} holds no usable secret (16 characters or more): remove it and a new one is made`);
  return new UploadIds(secret, validSeconds);
}

function readOrCreateSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  try {
    // Exclusive: of two starts racing, one secret wins and both use it.
    writeFileSync(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(file, 'utf8').trim();
  }
}
