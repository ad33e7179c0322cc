import { compileGlob, globProblem } from './glob';

describe('repository globs', () => {
  it.each([
    ['team-a/*', 'team-a/app', true],
    ['team-a/*', 'team-a/app/sub', false],
    ['team-a/*', 'team-a', false],
    ['team-a/*', 'team-b/app', false],
    ['team-a/**', 'team-a/app', true],
    ['team-a/**', 'team-a/app/sub/deeper', true],
    ['team-a/**', 'team-a', false],
    ['team-a/**', 'team-ab/app', false],
    ['**', 'a', true],
    ['**', 'a/b/c', true],
    ['**/cache', 'cache', true],
    ['**/cache', 'x/y/cache', true],
    ['**/cache', 'x/cached', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/x/y/c', false],
    ['*', 'alpine', true],
    ['*', 'library/alpine', false],
    ['lib*', 'library', true],
    ['lib*', 'lib', true],
    ['lib*', 'library/alpine', false],
    ['*-prod/*', 'web-prod/api', true],
    ['*-prod/*', 'web-dev/api', false],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['exact/name', 'exact/name', true],
    ['exact/name', 'exact/name/more', false],
  ])('%s against %s -> %s', (pattern, name, expected) => {
    expect(compileGlob(pattern)(name)).toBe(expected);
  });

  it.each([
    ['', 'empty pattern'],
    ['a//b', 'empty path component'],
    ['/a', 'empty path component'],
    ['a/', 'empty path component'],
    ['a**', 'whole path component'],
    ['a/**b', 'whole path component'],
    ['**/**', 'redundant'],
    ['Team/*', 'only a-z'],
    ['a/?', 'only a-z'],
    ['a/[bc]', 'only a-z'],
  ])('refuses %j (%s)', (pattern, problem) => {
    expect(globProblem(pattern)).toContain(problem);
    expect(() => compileGlob(pattern)).toThrow(problem);
  });
});
