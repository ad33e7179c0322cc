import { Logger as NestLogger } from '@nestjs/common';
import type { RegistryConfig } from '@ocireg/config';
import { type Logger, PinoNestLogger, createLogger } from '@ocireg/observability';

let root: { logger: Logger; nest: PinoNestLogger } | undefined;

/**
 * The process's one logger (JSON lines on stdout at the configured level), created on first use and made
 * Nest's logger too, so that Nest's messages and every `new Logger(context)` come out as JSON lines.
 */
export function processLogger(config: RegistryConfig, name = appName()): Logger {
  return rootLogging(config, name).logger;
}

/** The process logger as Nest's LoggerService: what NestFactory is given as `logger`. */
export function nestLogger(config: RegistryConfig): PinoNestLogger {
  return rootLogging(config).nest;
}

function rootLogging(config: RegistryConfig, name = appName()): { logger: Logger; nest: PinoNestLogger } {
  if (!root) {
    const logger = createLogger({ level: config.log.level, name });
    const nest = new PinoNestLogger(logger);
    NestLogger.overrideLogger(nest);
    root = { logger, nest };
  }
  return root;
}

/** The app being run (`node bin/ocireg.js <app>`), else the script's name. */
export function appName(): string | undefined {
  const app = process.argv[2];
  return app && /^[a-z-]+$/.test(app) ? app : undefined;
}
