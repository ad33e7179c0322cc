import type { LogLevel } from '@nestjs/common';
import type { RegistryConfig } from '@ocireg/config';

/** Something started that must be stopped on shutdown. */
export type Closer = () => Promise<unknown>;

export interface Started {
  close(): Promise<void>;
  /** The gateway's listening address, when this process serves HTTP. */
  url?: string;
}

/**
 * Closes what was started, in reverse order, each step whatever happened to the previous one. Before the first
 * step, the drain hooks run (the process stops reporting itself ready).
 */
export class Lifecycle {
  private readonly closers: Closer[] = [];
  private readonly drainHooks: Array<() => void> = [];

  add(closer: Closer): void {
    this.closers.push(closer);
  }

  /** Runs as soon as shutdown starts, before anything is closed. */
  onDrain(hook: () => void): void {
    this.drainHooks.push(hook);
  }

  async close(): Promise<void> {
    for (const hook of this.drainHooks.splice(0)) hook();
    const closers = this.closers.splice(0).reverse();
    for (const closer of closers) await closer().catch(() => undefined);
  }

  /** Runs a start-up; on failure closes whatever it had started before rethrowing. */
  async start(run: (life: Lifecycle) => Promise<string | undefined>): Promise<Started> {
    try {
      const url = await run(this);
      return { url, close: () => this.close() };
    } catch (error) {
      await this.close();
      throw error;
    }
  }
}

export function logLevels(config: RegistryConfig): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const last = { error: 1, warn: 2, info: 3, debug: 5 }[config.log.level];
  return order.slice(0, last + 1);
}
