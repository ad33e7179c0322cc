import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, RunProfile, loadConfig } from '@ocireg/config';
import type { Started } from './lifecycle';
import { processLogger } from './logging';

/** Shared `main` of every app: load and validate the config, start, and stop cleanly on SIGTERM/SIGINT. */
export async function runMain(profile: RunProfile, start: (config: ReturnType<typeof loadConfig>) => Promise<Started>): Promise<void> {
  const logger = new Logger('main');
  let config;
  try {
    config = loadConfig(process.env, profile);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // JSON logs from here on, Nest's included.
  processLogger(config);
  let started: Started;
  try {
    started = await start(config);
  } catch (error) {
    logger.error(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const forceAfterMs = (config.http.drainTimeoutSeconds + 10) * 1000;
  if (started.url) logger.log(`registry listening on ${started.url}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: shutting down`);
    // The gateway gives in-flight requests the drain timeout, then cuts them; the rest must close meanwhile.
    const force = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, forceAfterMs);
    force.unref();
    started.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
