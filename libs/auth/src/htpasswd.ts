import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { compare, hash } from 'bcryptjs';

/**
 * Apache htpasswd files, bcrypt entries only (as Distribution's htpasswd provider). The caller reads the
 * file; this parses its text once at start-up and checks passwords.
 */

/** A line of an htpasswd file that cannot be used. Names the line, never its content. */
export class HtpasswdError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`htpasswd line ${line}: ${problem}`);
    this.name = 'HtpasswdError';
  }
}

/** `$2a$`, `$2b$` or `$2y$`, a two-digit cost, 22 characters of salt and 31 of hash. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DEFAULT_COST = 10;

interface Entry {
  readonly digest: Buffer;
  readonly hash: string;
}

function userDigest(user: string): Buffer {
  return createHash('sha256').update(user, 'utf8').digest();
}

/** Which unsupported scheme a hash looks like, to help whoever has to fix the file. */
function describeScheme(value: string): string {
  if (value.startsWith('$apr1$')) return 'Apache MD5 ($apr1$)';
  if (value.startsWith('{SHA}')) return 'SHA-1 ({SHA})';
  if (value.startsWith('$1$')) return 'MD5-crypt ($1$)';
  if (value.startsWith('$5$')) return 'SHA-256-crypt ($5$)';
  if (value.startsWith('$6$')) return 'SHA-512-crypt ($6$)';
  if (/^\$2[aby]?\$/.test(value)) return 'a malformed bcrypt hash';
  return 'plain text or crypt(3)';
}

/**
 * A bcrypt "hash" of the given cost that no password matches: checking a password against it costs what
 * checking a real entry of that cost does. Random, so nothing can be precomputed against it.
 */
function dummyHash(cost: number): string {
  const bytes = randomBytes(53);
  let tail = '';
  for (const byte of bytes) tail += BCRYPT_ALPHABET[byte % 64];
  return `$2b$${String(cost).padStart(2, '0')}$${tail}`;
}

/** The parsed users of an htpasswd file. */
export class Htpasswd {
  private readonly entries: readonly Entry[];
  private readonly names: readonly string[];
  private readonly dummy: string;

  /** Use `parseHtpasswd`. */
  constructor(entries: ReadonlyMap<string, string>) {
    this.names = [...entries.keys()];
    this.entries = [...entries].map(([user, value]) => ({ digest: userDigest(user), hash: value }));
    this.dummy = dummyHash(commonestCost([...entries.values()]));
  }

  /** The user names, in file order. */
  users(): string[] {
    return [...this.names];
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Whether `password` is this user's. An unknown user costs the same as a wrong password: the name is
   * looked for among all entries with constant-time comparisons of fixed-length digests, and the password
   * is then checked against the user's hash or against a dummy hash of the same cost.
   */
  async verify(user: string, password: string): Promise<boolean> {
    const wanted = userDigest(user);
    let found: Entry | undefined;
    for (const entry of this.entries) {
      // No early exit: every entry is compared, whether or not one already matched.
      const same = timingSafeEqual(entry.digest, wanted);
      if (same && found === undefined) found = entry;
    }
    const matches = await compare(password, found ? found.hash : this.dummy);
    return found !== undefined && matches;
  }
}

function commonestCost(hashes: readonly string[]): number {
  const counts = new Map<number, number>();
  for (const value of hashes) {
    const cost = Number(value.slice(4, 6));
    counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = DEFAULT_COST;
  let bestCount = 0;
  for (const [cost, count] of counts) {
    if (count > bestCount || (count === bestCount && cost > best)) {
      best = cost;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Parses an htpasswd file's text: `user:hash` lines; blank lines and lines starting with `#` are skipped,
 * surrounding whitespace is trimmed. Only bcrypt hashes are accepted; any other line, an empty user name
 * or a user listed twice is an `HtpasswdError` naming the line number (and never the hash).
 */
export function parseHtpasswd(text: string): Htpasswd {
  const entries = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon < 0) throw new HtpasswdError(lineNumber, 'expected user:hash');
    const user = line.slice(0, colon);
    const value = line.slice(colon + 1);
    if (user === '') throw new HtpasswdError(lineNumber, 'empty user name');
    const bcrypt = BCRYPT.exec(value);
    if (!bcrypt) {
      throw new HtpasswdError(
        lineNumber,
        `unsupported password hash, ${describeScheme(value)}; only bcrypt ($2y$, $2a$, $2b$) is accepted (htpasswd -B)`,
      );
    }
    const cost = Number(bcrypt[1]);
    if (cost < 4 || cost > 31) throw new HtpasswdError(lineNumber, `bcrypt cost ${cost} is out of range 4-31`);
    if (entries.has(user)) throw new HtpasswdError(lineNumber, `user "${user}" is listed twice`);
    entries.set(user, value);
  });
  return new Htpasswd(entries);
}

/** A bcrypt hash for an htpasswd line (`${user}:${hash}`), e.g. to provision a first user. */
export function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  return hash(password, cost);
}
