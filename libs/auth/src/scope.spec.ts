import {
  Access,
  ScopeError,
  formatScope,
  formatScopes,
  hasAccess,
  isResourceName,
  mergeAccess,
  missingAccess,
  parseScope,
  parseScopes,
} from './scope';

describe('parseScope', () => {
  it('reads a repository scope', () => {
    expect(parseScope('repository:samalba/my-app:pull,push')).toEqual({
      type: 'repository',
      name: 'samalba/my-app',
      actions: ['pull', 'push'],
    });
  });

  it('reads the catalog scope and wildcard actions', () => {
    expect(parseScope('registry:catalog:*')).toEqual({ type: 'registry', name: 'catalog', actions: ['*'] });
    expect(parseScope('repository:a:*')).toEqual({ type: 'repository', name: 'a', actions: ['*'] });
  });

  it('keeps a host with a port in the name (one extra colon)', () => {
    expect(parseScope('repository:localhost:5000/team/app:pull')).toEqual({
      type: 'repository',
      name: 'localhost:5000/team/app',
      actions: ['pull'],
    });
    expect(parseScope('repository:Registry.Example.com/app:push').name).toBe('Registry.Example.com/app');
  });

  it('ignores the deprecated resource class', () => {
    expect(parseScope('repository(plugin):vieux/sshfs:pull').type).toBe('repository');
  });

  it('drops empty actions and duplicates, keeps unknown lower-case actions for the policy to refuse', () => {
    expect(parseScope('repository:a:pull,,pull,push,').actions).toEqual(['pull', 'push']);
    expect(parseScope('repository:a:').actions).toEqual([]);
    expect(parseScope('repository:a:metadata').actions).toEqual(['metadata']);
  });

  it.each([
    '',
    'repository',
    'repository:a',
    ':a:pull',
    'Repository:a:pull',
    'namespace:a:pull',
    'repository(:a:pull',
    'repository:a/B:pull',
    'repository:a//b:pull',
    'repository:/a:pull',
    'repository:a/:pull',
    'repository:-a:pull',
    'repository:a:PULL',
    'repository:a:pull;push',
    'repository:host:port:x/a:pull',
    `repository:${'a'.repeat(256)}:pull`,
  ])('refuses %j', (text) => {
    expect(() => parseScope(text)).toThrow(ScopeError);
  });

  it('names the scope in the error', () => {
    expect(() => parseScope('repository:A:pull')).toThrow('"repository:A:pull"');
  });
});

describe('parseScopes', () => {
  it('splits on spaces and reads repeated parameters, merging the same resource', () => {
    expect(parseScopes('repository:a:pull  repository:b:push registry:catalog:*')).toEqual([
      { type: 'repository', name: 'a', actions: ['pull'] },
      { type: 'repository', name: 'b', actions: ['push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(parseScopes(['repository:a:pull', 'repository:a:push repository:c:pull'])).toEqual([
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'repository', name: 'c', actions: ['pull'] },
    ]);
  });

  it('gives nothing for a missing or blank scope', () => {
    expect(parseScopes(undefined)).toEqual([]);
    expect(parseScopes('')).toEqual([]);
    expect(parseScopes([' '])).toEqual([]);
  });

  it('refuses the whole parameter when one scope is bad', () => {
    expect(() => parseScopes('repository:a:pull bogus')).toThrow(ScopeError);
  });
});

describe('formatting', () => {
  it('round-trips', () => {
    const text = 'repository:localhost:5000/a/b:pull,push';
    expect(formatScope(parseScope(text))).toBe(text);
  });

  it('joins several with spaces, merged per resource', () => {
    expect(
      formatScopes([
        { type: 'repository', name: 'a', actions: ['pull'] },
        { type: 'repository', name: 'b', actions: ['pull'] },
        { type: 'repository', name: 'a', actions: ['push', 'pull'] },
      ]),
    ).toBe('repository:a:pull,push repository:b:pull');
  });

  it('isResourceName follows the grammar', () => {
    expect(isResourceName('a/b-c/d_e.f')).toBe(true);
    expect(isResourceName('a__b')).toBe(true);
    expect(isResourceName('a___b')).toBe(false);
    expect(isResourceName('')).toBe(false);
  });
});

describe('checking granted access', () => {
  const granted: Access[] = [
    { type: 'repository', name: 'a', actions: ['pull'] },
    { type: 'repository', name: 'b', actions: ['*'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ];

  it('hasAccess matches type, name and action; a granted * allows any action', () => {
    expect(hasAccess(granted, 'repository', 'a', 'pull')).toBe(true);
    expect(hasAccess(granted, 'repository', 'a', 'push')).toBe(false);
    expect(hasAccess(granted, 'repository', 'b', 'delete')).toBe(true);
    expect(hasAccess(granted, 'registry', 'a', 'pull')).toBe(false);
    expect(hasAccess(granted, 'repository', 'a/b', 'pull')).toBe(false);
    expect(hasAccess(granted, 'registry', 'catalog', '*')).toBe(true);
  });

  it('missingAccess lists what is lacking, merged per resource', () => {
    expect(
      missingAccess(granted, [
        { type: 'repository', name: 'a', actions: ['pull'] },
        { type: 'repository', name: 'a', actions: ['push'] },
        { type: 'repository', name: 'c', actions: ['pull'] },
        { type: 'repository', name: 'b', actions: ['push'] },
      ]),
    ).toEqual([
      { type: 'repository', name: 'a', actions: ['push'] },
      { type: 'repository', name: 'c', actions: ['pull'] },
    ]);
    expect(missingAccess(granted, [{ type: 'registry', name: 'catalog', actions: ['*'] }])).toEqual([]);
    expect(missingAccess([], [{ type: 'registry', name: 'catalog', actions: ['*'] }])).toHaveLength(1);
  });

  it('mergeAccess does not alias its input', () => {
    const input: Access[] = [{ type: 'repository', name: 'a', actions: ['pull'] }];
    mergeAccess(input)[0].actions.push('push');
    expect(input[0].actions).toEqual(['pull']);
  });
});
