/** One versioned step of the schema. Statements run in order, one query each, inside the runner's transaction. */
export interface Migration {
  /** Strictly increasing, never reused; recorded in schema_migrations. */
  readonly version: number;
  /** Recorded beside the version; a renamed migration is detected as an edited history. */
  readonly name: string;
  /** One SQL statement per entry (PGlite's extended protocol runs one statement per query). */
  readonly statements: readonly string[];
}
