/** What a request's caller may do, as decided by the access control once per request. */
export type Action = 'pull' | 'push' | 'delete';

export interface Caller {
  /** The authenticated user, or undefined for an anonymous caller. */
  readonly user?: string;
  may(repository: string, action: Action): boolean;
  readonly mayListCatalog: boolean;
  /** Whether the catalog shows this repository to the caller (those they may pull). */
  seesInCatalog(repository: string): boolean;
}

/** The caller when access control is off: anyone may do anything. */
export const ANYONE: Caller = {
  may: () => true,
  mayListCatalog: true,
  seesInCatalog: () => true,
};
