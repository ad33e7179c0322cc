import { compare } from 'bcryptjs';
import { HtpasswdError, hashPassword, parseHtpasswd } from './htpasswd';

jest.mock('bcryptjs', () => {
  const actual = jest.requireActual<typeof import('bcryptjs')>('bcryptjs');
  return { ...actual, compare: jest.fn(actual.compare) };
});
const compareSpy = compare as jest.MockedFunction<typeof compare>;

const COST = 4;

describe('parseHtpasswd', () => {
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    alice = await hashPassword('alice-secret', COST);
    bob = await hashPassword('bob-secret', COST);
  });

  it('reads bcrypt entries of every variant, skipping blanks and comments', async () => {
    const file = [
      '# users',
      '',
      `alice:${alice.replace(/^\$2b\$/, '$2y$')}`,
      `  bob:${bob.replace(/^\$2b\$/, '$2a$')}  `,
      `carol:${alice}`,
      '',
    ].join('\r\n');
    const htpasswd = parseHtpasswd(`\uFEFF${file}`);
    expect(htpasswd.users()).toEqual(['alice', 'bob', 'carol']);
    expect(htpasswd.size).toBe(3);
    await expect(htpasswd.verify('alice', 'alice-secret')).resolves.toBe(true);
    await expect(htpasswd.verify('bob', 'bob-secret')).resolves.toBe(true);
    await expect(htpasswd.verify('carol', 'alice-secret')).resolves.toBe(true);
  });

  it('accepts an empty file (nobody can sign in)', async () => {
    const htpasswd = parseHtpasswd('\n# nobody\n');
    expect(htpasswd.size).toBe(0);
    await expect(htpasswd.verify('alice', 'x')).resolves.toBe(false);
  });

  it.each([
    ['Apache MD5', 'dave:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/', /line 2: unsupported password hash, Apache MD5/],
    ['SHA-1', 'dave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', /line 2: .*SHA-1/],
    ['SHA-512-crypt', 'dave:$6$salt$hash', /line 2: .*SHA-512-crypt/],
    ['plain text', 'dave:hunter2', /line 2: .*plain text/],
    ['a truncated bcrypt hash', 'dave:$2y$05$abc', /line 2: .*malformed bcrypt/],
    ['no colon', 'dave', /line 2: expected user:hash/],
    ['an empty user', ':$2y$05$' + 'a'.repeat(53), /line 2: empty user name/],
    ['a bcrypt cost out of range', 'dave:$2y$03$' + 'a'.repeat(53), /line 2: bcrypt cost 3/],
  ])('refuses %s, naming the line and never the secret', (_what, line, message) => {
    const text = `alice:${alice}\n${line}\n`;
    let caught: unknown;
    try {
      parseHtpasswd(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HtpasswdError);
    expect((caught as HtpasswdError).line).toBe(2);
    expect((caught as Error).message).toMatch(message);
    const secret = line.slice(line.indexOf(':') + 1);
    if (secret.length > 0) expect((caught as Error).message).not.toContain(secret);
    expect((caught as Error).message).not.toContain(alice);
  });

  it('refuses a user listed twice', () => {
    expect(() => parseHtpasswd(`alice:${alice}\nalice:${bob}`)).toThrow(/line 2: user "alice" is listed twice/);
  });
});

describe('Htpasswd.verify', () => {
  let text: string;

  beforeAll(async () => {
    text = `alice:${await hashPassword('alice-secret', COST)}\nbob:${await hashPassword('pässwörd ✓', COST)}\n`;
  });

  it('accepts the right password only', async () => {
    const htpasswd = parseHtpasswd(text);
    await expect(htpasswd.verify('alice', 'alice-secret')).resolves.toBe(true);
    await expect(htpasswd.verify('alice', 'alice-secreT')).resolves.toBe(false);
    await expect(htpasswd.verify('alice', '')).resolves.toBe(false);
    await expect(htpasswd.verify('bob', 'pässwörd ✓')).resolves.toBe(true);
    await expect(htpasswd.verify('bob', 'alice-secret')).resolves.toBe(false);
  });

  it('is case-sensitive about user names and refuses unknown users', async () => {
    const htpasswd = parseHtpasswd(text);
    await expect(htpasswd.verify('Alice', 'alice-secret')).resolves.toBe(false);
    await expect(htpasswd.verify('alice ', 'alice-secret')).resolves.toBe(false);
    await expect(htpasswd.verify('mallory', 'alice-secret')).resolves.toBe(false);
    await expect(htpasswd.verify('', '')).resolves.toBe(false);
  });

  it('runs one bcrypt comparison of the same cost for an unknown user as for a wrong password', async () => {
    const htpasswd = parseHtpasswd(text);
    compareSpy.mockClear();
    await htpasswd.verify('alice', 'wrong');
    await htpasswd.verify('mallory', 'wrong');
    expect(compareSpy).toHaveBeenCalledTimes(2);
    const [known, unknown] = compareSpy.mock.calls.map((call) => String(call[1]));
    expect(unknown.slice(0, 7)).toBe(known.slice(0, 7).replace(/^\$2[aby]/, '$2b'));
    expect(unknown).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/);
    expect(unknown).not.toBe(known);
  });

  it('takes about as long for an unknown user as for a wrong password', async () => {
    const htpasswd = parseHtpasswd(`alice:${await hashPassword('alice-secret', 8)}`);
    const time = async (user: string): Promise<number> => {
      const start = process.hrtime.bigint();
      await htpasswd.verify(user, 'wrong');
      return Number(process.hrtime.bigint() - start);
    };
    const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time('alice'));
      unknown.push(await time('mallory'));
    }
    // A cost-8 bcrypt takes milliseconds; a shortcut for unknown users would take microseconds.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });
});
