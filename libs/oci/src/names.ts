/** Repository name grammar from the distribution spec: path components joined by '/'. */
const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_PATTERN = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Distribution's limit on a repository name's length. */
export const MAX_NAME_LENGTH = 255;

export type RepositoryName = string & { readonly __brand: 'RepositoryName' };
export type Tag = string & { readonly __brand: 'Tag' };

export function isRepositoryName(value: string): value is RepositoryName {
  return value.length > 0 && value.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(value);
}

export function isTag(value: string): value is Tag {
  return TAG_PATTERN.test(value);
}
