import { PolicyError } from './policy-document';
import { Policy, defaultPolicy, parsePolicy } from './policy';

const EXAMPLE = `
groups:
  admins: [alice]
  ci: [robot-ci]
rules:
  - repositories: ["**"]        # glob: * within one path component, ** across components
    groups: [admins]
    actions: [pull, push, delete]
  - repositories: ["team-a/*"]
    users: [bob]
    actions: [pull, push]
  - repositories: ["team-a/**"]
    groups: [ci]
    actions: [pull]
  - repositories: ["public/**"]
    anonymous: true              # anyone, signed in or not
    actions: [pull]
  - repositories: ["shared/**"]
    authenticated: true          # any signed-in user
    actions: [pull]
catalog:                         # who may list /v2/_catalog
  users: [carol]
  groups: [admins]
  authenticated: false
`;

const sorted = (actions: Set<string>): string[] => [...actions].sort();

describe('parsePolicy: decisions', () => {
  let policy: Policy;
  beforeAll(() => {
    policy = parsePolicy(EXAMPLE);
  });

  it('gives group members their group rules everywhere', () => {
    expect(sorted(policy.allowed({ user: 'alice' }, 'anything/at/all'))).toEqual(['delete', 'pull', 'push']);
  });

  it('unions every matching rule', () => {
    expect(sorted(policy.allowed({ user: 'bob' }, 'team-a/app'))).toEqual(['pull', 'push']);
    expect(sorted(policy.allowed({ user: 'bob' }, 'shared/base'))).toEqual(['pull']);
    expect(sorted(policy.allowed({ user: 'bob' }, 'public/x'))).toEqual(['pull']);
  });

  it('keeps * within one path component and lets ** cross them', () => {
    expect(sorted(policy.allowed({ user: 'bob' }, 'team-a/app/nested'))).toEqual([]);
    expect(sorted(policy.allowed({ user: 'robot-ci' }, 'team-a/app/nested'))).toEqual(['pull']);
    expect(sorted(policy.allowed({ user: 'bob' }, 'team-b/app'))).toEqual([]);
  });

  it('lets anonymous rules apply to everyone and authenticated ones to signed-in users only', () => {
    expect(sorted(policy.allowed({}, 'public/a/b'))).toEqual(['pull']);
    expect(sorted(policy.allowed({ user: '' }, 'public/a'))).toEqual(['pull']);
    expect(sorted(policy.allowed({}, 'shared/base'))).toEqual([]);
    expect(sorted(policy.allowed({ user: '' }, 'shared/base'))).toEqual([]);
    expect(sorted(policy.allowed({ user: 'stranger' }, 'shared/base'))).toEqual(['pull']);
    expect(sorted(policy.allowed({}, 'team-a/app'))).toEqual([]);
  });

  it('decides who lists the catalog', () => {
    expect(policy.canListCatalog({ user: 'alice' })).toBe(true);
    expect(policy.canListCatalog({ user: 'carol' })).toBe(true);
    expect(policy.canListCatalog({ user: 'bob' })).toBe(false);
    expect(policy.canListCatalog({})).toBe(false);
  });

  it('lists the users it names', () => {
    expect(policy.namedUsers().sort()).toEqual(['alice', 'bob', 'carol', 'robot-ci']);
  });
});

describe('Policy.grant', () => {
  const policy = parsePolicy(EXAMPLE);

  it('intersects the requested actions with the allowed ones', () => {
    expect(
      policy.grant({ user: 'bob' }, [
        { type: 'repository', name: 'team-a/app', actions: ['pull', 'push', 'delete'] },
        { type: 'repository', name: 'shared/base', actions: ['push', 'pull'] },
      ]),
    ).toEqual([
      { type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'shared/base', actions: ['pull'] },
    ]);
  });

  it('drops resources left with no action, without failing', () => {
    expect(
      policy.grant({ user: 'bob' }, [
        { type: 'repository', name: 'team-b/app', actions: ['pull'] },
        { type: 'repository', name: 'shared/base', actions: ['push'] },
        { type: 'repository', name: 'team-a/app', actions: ['bogus'] },
      ]),
    ).toEqual([]);
  });

  it('expands * to everything the subject has there', () => {
    expect(policy.grant({ user: 'bob' }, [{ type: 'repository', name: 'team-a/app', actions: ['*'] }])).toEqual([
      { type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] },
    ]);
    expect(policy.grant({ user: 'alice' }, [{ type: 'repository', name: 'x', actions: ['*', 'pull'] }])).toEqual([
      { type: 'repository', name: 'x', actions: ['pull', 'push', 'delete'] },
    ]);
  });

  it('merges repeated scopes for the same repository', () => {
    expect(
      policy.grant({ user: 'bob' }, [
        { type: 'repository', name: 'team-a/app', actions: ['pull'] },
        { type: 'repository', name: 'team-a/app', actions: ['push'] },
      ]),
    ).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] }]);
  });

  it('grants registry:catalog:* to those who may list the catalog, nothing else of type registry', () => {
    const catalog = { type: 'registry' as const, name: 'catalog', actions: ['*'] };
    expect(policy.grant({ user: 'alice' }, [catalog])).toEqual([catalog]);
    expect(policy.grant({ user: 'bob' }, [catalog])).toEqual([]);
    expect(policy.grant({ user: 'alice' }, [{ type: 'registry', name: 'catalog', actions: ['pull'] }])).toEqual([]);
    expect(policy.grant({ user: 'alice' }, [{ type: 'registry', name: 'other', actions: ['*'] }])).toEqual([]);
  });

  it('gives nothing on names that are not repository names, whatever the globs', () => {
    expect(
      policy.grant({ user: 'alice' }, [{ type: 'repository', name: 'localhost:5000/x', actions: ['pull'] }]),
    ).toEqual([]);
  });

  it('gives anonymous subjects what anonymous rules allow only', () => {
    expect(
      policy.grant({}, [
        { type: 'repository', name: 'public/a', actions: ['pull', 'push'] },
        { type: 'repository', name: 'shared/a', actions: ['pull'] },
      ]),
    ).toEqual([{ type: 'repository', name: 'public/a', actions: ['pull'] }]);
  });
});

describe('defaultPolicy', () => {
  const policy = defaultPolicy();

  it('lets every signed-in user do everything and anonymous requests nothing', () => {
    expect(sorted(policy.allowed({ user: 'anyone' }, 'a/b/c'))).toEqual(['delete', 'pull', 'push']);
    expect(sorted(policy.allowed({}, 'a'))).toEqual([]);
    expect(policy.canListCatalog({ user: 'anyone' })).toBe(true);
    expect(policy.canListCatalog({})).toBe(false);
    expect(policy.grant({}, [{ type: 'repository', name: 'a', actions: ['pull'] }])).toEqual([]);
  });
});

describe('parsePolicy: validation', () => {
  const rule = (extra: string): string => `rules:\n  - repositories: ["a/*"]\n    users: [bob]\n${extra}`;

  it.each([
    ['an unknown action', rule('    actions: [pull, pul]\n'), 'rules[0].actions: unknown action "pul"'],
    ['no action', rule('    actions: []\n'), 'rules[0].actions: at least one action'],
    ['a bad pattern', 'rules:\n  - repositories: ["a/**b"]\n    users: [x]\n    actions: [pull]\n', 'bad pattern "a/**b"'],
    ['no pattern', 'rules:\n  - users: [x]\n    actions: [pull]\n', 'rules[0].repositories: at least one pattern'],
    ['an unknown group', 'rules:\n  - repositories: [a]\n    groups: [admins]\n    actions: [pull]\n', 'unknown group "admins"'],
    ['an unknown catalog group', 'rules: []\ncatalog:\n  groups: [ops]\n', 'catalog.groups: unknown group "ops"'],
    ['a rule for nobody', 'rules:\n  - repositories: [a]\n    anonymous: false\n    actions: [pull]\n', 'applies to nobody'],
    ['an unknown rule key', rule('    actions: [pull]\n    user: [carol]\n'), 'rules[0]: unknown key "user"'],
    ['an unknown top-level key', 'rules: []\npolicy: x\n', 'unknown key "policy"'],
    ['an unknown catalog key', 'rules: []\ncatalog:\n  everyone: true\n', 'catalog: unknown key "everyone"'],
    ['a non-boolean flag', 'rules:\n  - repositories: [a]\n    anonymous: "yes"\n    actions: [pull]\n', 'anonymous: expected true or false'],
    ['a non-string user', 'rules:\n  - repositories: [a]\n    users: [1]\n    actions: [pull]\n', 'rules[0].users[0]'],
    ['missing rules', 'groups: {}\n', 'rules: expected a list'],
    ['rules as a mapping', 'rules: {a: 1}\n', 'rules: expected a list'],
    ['a scalar document', 'hello\n', 'policy: expected a mapping'],
    ['an empty document', '# nothing\n', 'policy is empty'],
    ['bad YAML', 'rules: [\n', 'not valid YAML'],
    ['a duplicate key', 'rules: []\nrules: []\n', 'not valid YAML'],
    ['groups as a list', 'groups: [a]\nrules: []\n', 'groups: expected a mapping'],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parsePolicy(text)).toThrow(PolicyError);
    expect(() => parsePolicy(text)).toThrow(message);
  });

  it('accepts single strings for lists and * for all actions', () => {
    const policy = parsePolicy('rules:\n  - repositories: "a/*"\n    users: bob\n    actions: "*"\n');
    expect(sorted(policy.allowed({ user: 'bob' }, 'a/b'))).toEqual(['delete', 'pull', 'push']);
    expect(policy.canListCatalog({ user: 'bob' })).toBe(false);
  });
});
