import 'reflect-metadata';
import { ConfigError, loadConfig } from '@ocireg/config';
import { migrateDatabase } from '@ocireg/runtime-services';

/**
 * Applies pending metadata migrations and exits (a Kubernetes Job, a compose one-shot service). The
 * services also migrate at start-up under an advisory lock, so running this first is an optimisation and a
 * way to fail a rollout early, never a requirement.
 */
async function main(): Promise<void> {
  try {
    const config = loadConfig(process.env, 'distributed');
    const applied = await migrateDatabase(config);
    process.stdout.write(`metadata schema up to date (${applied} migration(s) known)\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `migration failed: ${error instanceof Error ? error.message : String(error)}`}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
}

void main();
