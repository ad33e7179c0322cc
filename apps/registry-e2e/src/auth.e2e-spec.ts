import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SignJWT, importPKCS8 } from 'jose';
import { hashPassword } from '@ocireg/auth';
import { RunMode, TestPki, TestRegistry, createPki, makeImage, removeDir, startApp, startRegistry, tempDir, writeOciLayout } from '@ocireg/testing';

const run = promisify(execFile);

const POLICY = `
groups:
  admins: [alice]
rules:
  - repositories: ["**"]
    groups: [admins]
    actions: [pull, push, delete]
  - repositories: ["team/**"]
    users: [bob]
    actions: [pull]
  - repositories: ["public/**"]
    anonymous: true
    actions: [pull]
  - repositories: ["carol/**"]
    users: [carol]
    actions: [pull, push]
catalog:
  authenticated: true
`;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function errorCode(response: Response): Promise<string | undefined> {
  return ((await response.json()) as { errors?: Array<{ code: string }> }).errors?.[0]?.code;
}

/** Files every auth mode uses: htpasswd with alice (admin) and bob (pull on team/**), the policy, a layout. */
async function fixtures(dir: string) {
  const htpasswd = join(dir, 'htpasswd');
  const users = [
    ['alice', 'alice-secret'],
    ['bob', 'bob-secret'],
    ['carol', 'carol-secret'],
  ];
  const lines = await Promise.all(users.map(async ([user, password]) => `${user}:${await hashPassword(password ?? '', 5)}`));
  writeFileSync(htpasswd, `${lines.join('\n')}\n`);
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, POLICY);
  const layout = join(dir, 'layout');
  writeOciLayout(layout, [makeImage({ layers: 2 })], { tag: 'v1' });
  return { htpasswd, policy, layout };
}

describe.each<RunMode>(['embedded', 'distributed'])('htpasswd basic auth with a policy (%s)', (mode) => {
  const dir = tempDir('auth-basic');
  let registry: TestRegistry;
  let files: Awaited<ReturnType<typeof fixtures>>;

  beforeAll(async () => {
    files = await fixtures(dir);
    registry = await startRegistry(mode, {
      readyStatuses: [401],
      env: {
        REGISTRY_AUTH: 'htpasswd',
        REGISTRY_AUTH_HTPASSWD_REALM: 'test realm',
        REGISTRY_AUTH_HTPASSWD_PATH: files.htpasswd,
        REGISTRY_AUTH_POLICY_PATH: files.policy,
        REGISTRY_AUTH_LOGIN_MAXFAILURES: '3',
        REGISTRY_AUTH_LOGIN_WINDOW: '60s',
        REGISTRY_STORAGE_DELETE_ENABLED: 'true',
        // Access lines (checked for the authenticated user).
        REGISTRY_LOG_LEVEL: 'info',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    removeDir(dir);
  });

  it('challenges an anonymous /v2/ with Basic and accepts valid credentials', async () => {
    const anonymous = await fetch(`${registry.url}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="test realm"');
    expect(await errorCode(anonymous)).toBe('UNAUTHORIZED');
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('alice', 'alice-secret') } })).status).toBe(200);
  });

  it('lets skopeo push and pull with credentials; a pull-only user can pull but not push or delete', async () => {
    await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'alice:alice-secret', `oci:${files.layout}:v1`, `docker://${registry.host}/team/app:v1`);
    const raw = await skopeo('inspect', '--tls-verify=false', '--creds', 'bob:bob-secret', '--raw', `docker://${registry.host}/team/app:v1`);
    expect(JSON.parse(raw).schemaVersion).toBe(2);
    await expect(skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'bob:bob-secret', `oci:${files.layout}:v1`, `docker://${registry.host}/team/app:v2`)).rejects.toThrow();
    const push = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { authorization: basic('bob', 'bob-secret') } });
    expect(push.status).toBe(403);
    expect(await errorCode(push)).toBe('DENIED');
    const del = await fetch(`${registry.url}/v2/team/app/manifests/v1`, { method: 'DELETE', headers: { authorization: basic('bob', 'bob-secret') } });
    expect(del.status).toBe(403);
    expect((await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: basic('bob', 'bob-secret') } })).status).toBe(200);

    // The access lines name the authenticated user, the refused requests included.
    const gateway = registry.processes.find((p) => p.name === (mode === 'embedded' ? 'registry' : 'gateway-0'));
    const access = (gateway?.output() ?? '')
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"msg":"request"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(access).toContainEqual(expect.objectContaining({ method: 'POST', path: '/v2/team/app/blobs/uploads/', status: 403, user: 'bob' }));
    expect(access).toContainEqual(expect.objectContaining({ method: 'PUT', path: '/v2/team/app/manifests/v1', status: 201, user: 'alice' }));
  }, 60_000);

  it('serves anonymous pulls where the policy allows them, and nothing else', async () => {
    const image = makeImage();
    const auth = { authorization: basic('alice', 'alice-secret') };
    await pushImageAs(registry.url, 'public/img', image, auth);
    expect((await fetch(`${registry.url}/v2/public/img/manifests/v1`)).status).toBe(200);
    expect((await fetch(`${registry.url}/v2/public/img/blobs/${image.config.digest}`)).status).toBe(200);
    const anonymousPush = await fetch(`${registry.url}/v2/public/img/blobs/uploads/`, { method: 'POST' });
    expect(anonymousPush.status).toBe(401);
    expect((await fetch(`${registry.url}/v2/team/app/manifests/v1`)).status).toBe(401);
  });

  it('lists in the catalog only what the caller may pull', async () => {
    const bob = await fetch(`${registry.url}/v2/_catalog`, { headers: { authorization: basic('bob', 'bob-secret') } });
    const { repositories } = (await bob.json()) as { repositories: string[] };
    expect(repositories).toEqual(expect.arrayContaining(['team/app']));
    for (const name of repositories) expect(name.startsWith('team/') || name.startsWith('public/')).toBe(true);
    const alice = (await (await fetch(`${registry.url}/v2/_catalog`, { headers: { authorization: basic('alice', 'alice-secret') } })).json()) as { repositories: string[] };
    expect(alice.repositories.length).toBeGreaterThanOrEqual(repositories.length);
  });

  it('mounts only from repositories the caller may pull; otherwise the upload is an ordinary one (202)', async () => {
    const image = makeImage({ layers: 1 });
    await pushImageAs(registry.url, 'team/mount-source', image, { authorization: basic('alice', 'alice-secret') });
    const layer = image.layers[0]?.digest ?? '';
    const carol = { authorization: basic('carol', 'carol-secret') };
    const fromTeam = await fetch(`${registry.url}/v2/carol/app/blobs/uploads/?mount=${layer}&from=team/mount-source`, { method: 'POST', headers: carol });
    expect(fromTeam.status).toBe(202);
    const automatic = await fetch(`${registry.url}/v2/carol/app/blobs/uploads/?mount=${layer}`, { method: 'POST', headers: carol });
    expect(automatic.status).toBe(202);
    expect((await fetch(`${registry.url}/v2/carol/app/blobs/${layer}`, { method: 'HEAD', headers: carol })).status).toBe(404);
    const alice = await fetch(`${registry.url}/v2/carol/app/blobs/uploads/?mount=${layer}`, { method: 'POST', headers: { authorization: basic('alice', 'alice-secret') } });
    expect(alice.status).toBe(201);
  });

  it('keeps a skopeo login (auth file) for later commands', async () => {
    const authfile = join(dir, 'auth.json');
    await run('skopeo', ['login', '--tls-verify=false', '--authfile', authfile, '-u', 'bob', '-p', 'bob-secret', registry.host]);
    const raw = await skopeo('inspect', '--tls-verify=false', '--authfile', authfile, '--raw', `docker://${registry.host}/team/app:v1`);
    expect(JSON.parse(raw).schemaVersion).toBe(2);
    await expect(run('skopeo', ['login', '--tls-verify=false', '--authfile', join(dir, 'bad.json'), '-u', 'bob', '-p', 'nope', registry.host])).rejects.toThrow();
  }, 60_000);

  it('refuses wrong passwords, then limits failed logins per client with 429 and Retry-After (last: it blocks this client)', async () => {
    const wrong = () => fetch(`${registry.url}/v2/`, { headers: { authorization: basic('mallory', 'guess') } });
    let status = 0;
    let attempts = 0;
    let last: Response | undefined;
    // Earlier tests' failures from this address count too: at most REGISTRY_AUTH_LOGIN_MAXFAILURES attempts.
    while (status !== 429 && attempts < 3) {
      last = await wrong();
      status = last.status;
      attempts++;
      if (status !== 429) expect(status).toBe(401);
    }
    expect(status).toBe(429);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last ? await errorCode(last) : undefined).toBe('TOOMANYREQUESTS');
    // The client address is blocked now, even with the right password.
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('alice', 'alice-secret') } })).status).toBe(429);
  });
});

async function pushImageAs(url: string, name: string, image: ReturnType<typeof makeImage>, headers: Record<string, string>): Promise<void> {
  for (const blob of [image.config, ...image.layers]) {
    const response = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', headers, body: blob.bytes });
    expect(response.status).toBe(201);
  }
  const manifest = await fetch(`${url}/v2/${name}/manifests/v1`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: image.manifest.bytes,
  });
  expect(manifest.status).toBe(201);
}

describe.each<RunMode>(['embedded', 'distributed'])('Docker token auth with the registry as token server (%s)', (mode) => {
  const dir = tempDir('auth-token');
  let registry: TestRegistry;
  let files: Awaited<ReturnType<typeof fixtures>>;
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  beforeAll(async () => {
    files = await fixtures(dir);
    const keyPath = join(dir, 'token.key');
    writeFileSync(keyPath, signingKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    registry = await startRegistry(mode, {
      readyStatuses: [401],
      env: {
        REGISTRY_AUTH: 'token',
        REGISTRY_AUTH_TOKEN_SIGNINGKEY: keyPath,
        REGISTRY_AUTH_TOKEN_ISSUER: 'test-issuer',
        REGISTRY_AUTH_TOKEN_SERVICE: 'test-registry',
        REGISTRY_AUTH_HTPASSWD_PATH: files.htpasswd,
        REGISTRY_AUTH_POLICY_PATH: files.policy,
        REGISTRY_LOG_LEVEL: 'debug',
      },
    });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    removeDir(dir);
  });

  async function token(user: string | undefined, password: string, scope: string, extra = ''): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = user ? { authorization: basic(user, password) } : {};
    const response = await fetch(`${registry.url}/auth/token?service=test-registry&scope=${encodeURIComponent(scope)}${extra}`, { headers });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  it('challenges with Bearer naming realm, service and the exact scope', async () => {
    const base = await fetch(`${registry.url}/v2/`);
    expect(base.status).toBe(401);
    expect(base.headers.get('www-authenticate')).toBe(`Bearer realm="${registry.url}/auth/token",service="test-registry"`);
    const pull = await fetch(`${registry.url}/v2/team/app/manifests/v1`);
    expect(pull.headers.get('www-authenticate')).toBe(`Bearer realm="${registry.url}/auth/token",service="test-registry",scope="repository:team/app:pull"`);
    const push = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    expect(push.headers.get('www-authenticate')).toContain('scope="repository:team/app:pull,push"');
    const catalog = await fetch(`${registry.url}/v2/_catalog`);
    expect(catalog.headers.get('www-authenticate')).toContain('scope="registry:catalog:*"');
  });

  it('lets skopeo log in through the token endpoint, push and pull; a pull-only user cannot push', async () => {
    await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'alice:alice-secret', `oci:${files.layout}:v1`, `docker://${registry.host}/team/app:v1`);
    const raw = await skopeo('inspect', '--tls-verify=false', '--creds', 'bob:bob-secret', '--raw', `docker://${registry.host}/team/app:v1`);
    expect(JSON.parse(raw).schemaVersion).toBe(2);
    await expect(skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'bob:bob-secret', `oci:${files.layout}:v1`, `docker://${registry.host}/team/app:v2`)).rejects.toThrow();
  }, 60_000);

  it('grants the intersection of the requested scopes and the policy; insufficient scope is a 401 naming it', async () => {
    const bob = await token('bob', 'bob-secret', 'repository:team/app:pull,push,delete');
    const payload = JSON.parse(Buffer.from(String(bob['token']).split('.')[1] ?? '', 'base64url').toString('utf8')) as { access: unknown; sub: string };
    expect(payload.sub).toBe('bob');
    expect(payload.access).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    const push = await fetch(`${registry.url}/v2/team/app/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${bob['token']}` } });
    expect(push.status).toBe(401);
    expect(push.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    const pull = await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: `Bearer ${bob['token']}` } });
    expect(pull.status).toBe(200);
    const del = await fetch(`${registry.url}/v2/team/app/manifests/v1`, { method: 'DELETE', headers: { authorization: `Bearer ${bob['token']}` } });
    expect(del.status).toBe(401);
    expect(del.headers.get('www-authenticate')).toContain('scope="repository:team/app:delete",error="insufficient_scope"');
  });

  it('never writes passwords or tokens to its logs (even at debug level)', async () => {
    const issued = await token('alice', 'alice-secret', 'repository:team/app:pull');
    await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: `Bearer ${issued['token']}` } });
    await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: 'Bearer forged.token.value' } });
    const logs = registry.processes.map((p) => p.output()).join('\n');
    for (const secret of ['alice-secret', 'bob-secret', String(issued['token']), 'forged.token.value']) expect(logs).not.toContain(secret);
  });

  it('issues anonymous tokens that pull only what anonymous callers may', async () => {
    const image = makeImage();
    const admin = await token('alice', 'alice-secret', 'repository:public/img:pull,push');
    await pushImageAs(registry.url, 'public/img', image, { authorization: `Bearer ${admin['token']}` });
    const anonymous = await token(undefined, '', 'repository:public/img:pull repository:team/app:pull');
    const headers = { authorization: `Bearer ${anonymous['token']}` };
    expect((await fetch(`${registry.url}/v2/public/img/manifests/v1`, { headers })).status).toBe(200);
    expect((await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers })).status).toBe(401);
  });

  it('keeps a skopeo login (auth file) for later commands', async () => {
    const authfile = join(dir, 'auth.json');
    await run('skopeo', ['login', '--tls-verify=false', '--authfile', authfile, '-u', 'alice', '-p', 'alice-secret', registry.host]);
    const raw = await skopeo('inspect', '--tls-verify=false', '--authfile', authfile, '--raw', `docker://${registry.host}/team/app:v1`);
    expect(JSON.parse(raw).schemaVersion).toBe(2);
  }, 60_000);

  it('refuses bad credentials at the token endpoint', async () => {
    const response = await fetch(`${registry.url}/auth/token?service=test-registry&scope=repository:team/app:pull`, { headers: { authorization: basic('bob', 'wrong') } });
    expect(response.status).toBe(401);
  });

  it('gives refresh tokens for offline_token=true, usable with the OAuth2 POST form', async () => {
    const first = await token('alice', 'alice-secret', 'repository:team/app:pull', '&offline_token=true');
    expect(typeof first['refresh_token']).toBe('string');
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(first['refresh_token']), service: 'test-registry', scope: 'repository:team/app:pull', client_id: 'e2e' });
    const refreshed = await fetch(`${registry.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as { access_token: string };
    expect((await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: `Bearer ${body.access_token}` } })).status).toBe(200);
    // A refresh token is not an access token.
    const misuse = await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: `Bearer ${first['refresh_token']}` } });
    expect(misuse.status).toBe(401);
    const password = new URLSearchParams({ grant_type: 'password', username: 'bob', password: 'bob-secret', service: 'test-registry', scope: 'repository:team/app:pull', client_id: 'e2e' });
    expect((await fetch(`${registry.url}/auth/token`, { method: 'POST', body: password.toString() })).status).toBe(200);
  });

  describe('refuses forged tokens with invalid_token', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const access = [{ type: 'repository', name: 'team/app', actions: ['pull'] }];
    async function sign(claims: Record<string, unknown>, key = signingKey.privateKey, alg = 'ES256'): Promise<string> {
      const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
      return new SignJWT({ access, ...claims }).setProtectedHeader({ alg, typ: 'JWT' }).sign(await importPKCS8(pem, alg));
    }
    const valid = { iss: 'test-issuer', aud: 'test-registry', sub: 'mallory' };
    const cases: Array<[string, () => Promise<string>]> = [
      ['signed by another key', () => sign({ ...valid, exp: now() + 300 }, otherKey.privateKey)],
      ['expired', () => sign({ ...valid, exp: now() - 600, iat: now() - 900 })],
      ['not yet valid', () => sign({ ...valid, exp: now() + 3600, nbf: now() + 1800 })],
      ['for another audience', () => sign({ ...valid, aud: 'other-registry', exp: now() + 300 })],
      ['from another issuer', () => sign({ ...valid, iss: 'someone-else', exp: now() + 300 })],
      [
        'with alg none',
        async () => {
          const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
          const body = Buffer.from(JSON.stringify({ ...valid, exp: now() + 300, access })).toString('base64url');
          return `${header}.${body}.`;
        },
      ],
      ['garbage', async () => 'not.a.token'],
    ];
    it.each(cases)('%s', async (_label, make) => {
      const response = await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: `Bearer ${await make()}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });
  });
});

describe.each<RunMode>(['embedded', 'distributed'])('tokens from an external token server, trusted by a root bundle (%s)', (mode) => {
  const dir = tempDir('auth-external');
  let registry: TestRegistry;
  let pki: TestPki;
  let strangers: TestPki;

  beforeAll(async () => {
    pki = createPki(join(dir, 'trusted'));
    strangers = createPki(join(dir, 'untrusted'));
    registry = await startRegistry(mode, {
      readyStatuses: [401],
      env: {
        REGISTRY_AUTH: 'token',
        REGISTRY_AUTH_TOKEN_REALM: 'https://auth.example.test/token',
        REGISTRY_AUTH_TOKEN_SERVICE: 'external-registry',
        REGISTRY_AUTH_TOKEN_ISSUER: 'external-issuer',
        REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: pki.caCert,
      },
    });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    removeDir(dir);
  });

  /** A token signed by `signer`'s key, with its certificate in x5c, as Distribution-style token servers send. */
  async function tokenFrom(authority: TestPki, claims: Record<string, unknown> = {}): Promise<string> {
    const signer = authority.issue(`signer-${Math.random().toString(36).slice(2)}`, { dns: 'token.example.test' });
    const der = new X509Certificate(readFileSync(signer.cert)).raw.toString('base64');
    const key = createPrivateKey(readFileSync(signer.key)).export({ type: 'pkcs8', format: 'pem' }).toString();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access: [{ type: 'repository', name: 'ext/app', actions: ['pull', 'push'] }], ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [der] })
      .setIssuer('external-issuer')
      .setAudience('external-registry')
      .setSubject('ci')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(await importPKCS8(key, 'ES256'));
  }

  it('challenges with the external realm', async () => {
    const response = await fetch(`${registry.url}/v2/ext/app/tags/list`);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="https://auth.example.test/token",service="external-registry",scope="repository:ext/app:pull"');
  });

  it('accepts a token whose x5c chain reaches the root bundle, for what its access claim grants', async () => {
    const headers = { authorization: `Bearer ${await tokenFrom(pki)}` };
    expect((await fetch(`${registry.url}/v2/`, { headers })).status).toBe(200);
    expect((await fetch(`${registry.url}/v2/ext/app/blobs/uploads/`, { method: 'POST', headers })).status).toBe(202);
    const other = await fetch(`${registry.url}/v2/other/app/tags/list`, { headers });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('refuses a token signed under another CA', async () => {
    const response = await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${await tokenFrom(strangers)}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('clear start-up errors for access-control files', () => {
  const dir = tempDir('auth-startup');
  afterAll(() => removeDir(dir));

  async function exitOutput(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const proc = startApp('registry', { REGISTRY_DATA_DIR: join(dir, 'data'), REGISTRY_HTTP_ADDR: '127.0.0.1:0', ...env });
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', (c) => resolve(c)));
    return { code, output: proc.output() };
  }

  it.each([
    ['an unreadable policy file', { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: '/dev/null', REGISTRY_AUTH_POLICY_PATH: '/nonexistent/policy.yaml' }, 'REGISTRY_AUTH_POLICY_PATH'],
    ['an unreadable htpasswd file', { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: '/nonexistent/htpasswd' }, 'REGISTRY_AUTH_HTPASSWD_PATH'],
    ['an unreadable signing key', { REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_SIGNINGKEY: '/nonexistent/key.pem' }, 'REGISTRY_AUTH_TOKEN_SIGNINGKEY'],
    ['an unreadable root bundle', { REGISTRY_AUTH: 'token', REGISTRY_AUTH_TOKEN_REALM: 'https://a/t', REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE: '/nonexistent/roots.pem' }, 'REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE'],
  ])('names %s and exits', async (_label, env, setting) => {
    const { code, output } = await exitOutput(env);
    expect(code).not.toBe(0);
    expect(output).toContain(setting);
  }, 60_000);

  it('names a policy file with a mistake in it', async () => {
    const policy = join(dir, 'bad-policy.yaml');
    writeFileSync(policy, 'rules:\n  - repositories: ["**"]\n    users: [alice]\n    actions: [pul]\n');
    const { code, output } = await exitOutput({ REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: '/dev/null', REGISTRY_AUTH_POLICY_PATH: policy });
    expect(code).not.toBe(0);
    expect(output).toContain('REGISTRY_AUTH_POLICY_PATH');
    expect(output).toContain('pul');
  }, 60_000);
});
