/**
 * Repository-name globs of the access policy: path components separated by '/'; within a component `*`
 * matches any characters except '/'; a component that is exactly `**` matches any number of whole
 * components (`a/**` needs at least one below `a`; `a/**\/b` also matches `a/b`; `**` alone matches every
 * name). No other wildcard exists.
 */

/** Characters a pattern component may hold besides `*`: those of repository names. */
const COMPONENT = /^[a-z0-9._*-]+$/;
const MAX_PATTERN_LENGTH = 255;

export type RepositoryMatcher = (repository: string) => boolean;

/** Why `pattern` is not a usable glob, or undefined when it is. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'empty pattern';
  if (pattern.length > MAX_PATTERN_LENGTH) return 'pattern too long';
  const components = pattern.split('/');
  for (let i = 0; i < components.length; i++) {
    const component = components[i];
    if (component === '') return 'empty path component';
    if (component === '**') {
      if (components[i - 1] === '**') return '"**/**" is redundant';
      continue;
    }
    if (component.includes('**')) return '"**" must be a whole path component';
    if (!COMPONENT.test(component)) return 'only a-z, 0-9, ".", "_", "-", "*" and "/" are allowed';
  }
  return undefined;
}

function componentSource(component: string): string {
  if (component === '*') return '[^/]+';
  return component
    .split('*')
    .map((literal) => literal.replace(/[.]/g, '\\.'))
    .join('[^/]*');
}

/** Compiles a glob (checked with `globProblem` first) into a matcher of whole repository names. */
export function compileGlob(pattern: string): RepositoryMatcher {
  const problem = globProblem(pattern);
  if (problem !== undefined) throw new Error(`bad repository pattern "${pattern}": ${problem}`);
  const components = pattern.split('/');
  const last = components.length - 1;
  let source = '';
  components.forEach((component, i) => {
    if (component === '**') {
      if (last === 0) source += '[^/]+(?:/[^/]+)*';
      else if (i === 0) source += '(?:[^/]+/)*';
      else if (i === last) source += '(?:/[^/]+)+';
      else source += '(?:/[^/]+)*';
      return;
    }
    const leadingWildcard = i > 0 && components[i - 1] === '**' && i - 1 === 0;
    if (i > 0 && !leadingWildcard) source += '/';
    source += componentSource(component);
  });
  const regex = new RegExp(`^${source}$`);
  return (repository) => regex.test(repository);
}
