import { accessDetail, basicChallenge, bearerChallenge } from './challenge';

describe('bearerChallenge', () => {
  it('writes Distribution\'s challenge', () => {
    expect(
      bearerChallenge({
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scopes: [{ type: 'repository', name: 'samalba/my-app', actions: ['pull', 'push'] }],
      }),
    ).toBe('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"');
  });

  it('leaves out an empty scope and appends the error', () => {
    expect(bearerChallenge({ realm: 'r', service: 's' })).toBe('Bearer realm="r",service="s"');
    expect(bearerChallenge({ realm: 'r', service: 's', scopes: [], error: 'invalid_token' })).toBe(
      'Bearer realm="r",service="s",error="invalid_token"',
    );
    expect(
      bearerChallenge({
        realm: 'r',
        service: 's',
        scopes: [{ type: 'registry', name: 'catalog', actions: ['*'] }],
        error: 'insufficient_scope',
      }),
    ).toBe('Bearer realm="r",service="s",scope="registry:catalog:*",error="insufficient_scope"');
  });

  it('joins several resources with spaces and merges the same one', () => {
    expect(
      bearerChallenge({
        realm: 'r',
        service: 's',
        scopes: [
          { type: 'repository', name: 'a', actions: ['pull'] },
          { type: 'repository', name: 'b', actions: ['pull'] },
          { type: 'repository', name: 'a', actions: ['push'] },
        ],
      }),
    ).toBe('Bearer realm="r",service="s",scope="repository:a:pull,push repository:b:pull"');
  });

  it('escapes quotes and backslashes, and refuses control characters', () => {
    expect(bearerChallenge({ realm: 'say "hi" \\o/', service: 's' })).toBe(
      'Bearer realm="say \\"hi\\" \\\\o/",service="s"',
    );
    expect(() => bearerChallenge({ realm: 'a\r\nSet-Cookie: x', service: 's' })).toThrow('control character');
  });
});

describe('basicChallenge', () => {
  it('writes the realm quoted', () => {
    expect(basicChallenge('basic-realm')).toBe('Basic realm="basic-realm"');
    expect(basicChallenge('my "registry"')).toBe('Basic realm="my \\"registry\\""');
  });
});

describe('accessDetail', () => {
  it('lists one entry per required action, as Distribution\'s 401 body', () => {
    expect(accessDetail([{ type: 'repository', name: 'samalba/my-app', actions: ['pull', 'push'] }])).toEqual([
      { Type: 'repository', Name: 'samalba/my-app', Action: 'pull' },
      { Type: 'repository', Name: 'samalba/my-app', Action: 'push' },
    ]);
  });
});
