import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { RegistryConfig, Tokens } from '@ocireg/config';
import type { ContentStore } from '@ocireg/storage';

/**
 * Removes the bytes that expired uploads left in the content store (Distribution's upload purging): an
 * upload's session expires after `uploads.ttlSeconds` without activity, and whatever it wrote that is older
 * than that is garbage. Every replica may run it: purging is idempotent.
 */
@Injectable()
export class UploadPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('UploadPurger');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(Tokens.config) private readonly config: RegistryConfig,
    @Inject(Tokens.contentStore) private readonly store: ContentStore,
  ) {}

  onApplicationBootstrap(): void {
    const { enabled, intervalSeconds } = this.config.uploads.purge;
    if (!enabled) return;
    // A first pass soon after start (spread across replicas), then one every interval.
    const first = Math.min(intervalSeconds, 60) * 1000 * (0.5 + Math.random() / 2);
    this.schedule(first);
  }

  async onModuleDestroy(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: removes leftovers last written before now minus the upload TTL. */
  async purge(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.config.uploads.ttlSeconds * 1000);
    const removed = await this.store.purgeUnfinished(cutoff);
    if (removed > 0) this.logger.log(`removed ${removed} leftover(s) of uploads idle since before ${cutoff.toISOString()}`);
    return removed;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.purge()
        .catch((error: unknown) => this.logger.warn(`upload purging failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          this.running = undefined;
          if (this.timer) this.schedule(this.config.uploads.purge.intervalSeconds * 1000);
        });
    }, delayMs);
    this.timer.unref();
  }
}
