import type { Readable } from 'node:stream';

/**
 * A body that counts its own bytes as they go out. Observers (the access log, the metrics) subscribe to it
 * instead of piping it through a counting stage: a stage costs every chunk a trip through a Transform, and a
 * body that writes itself into a socket (the filesystem store's) can do so only with nothing in between.
 */
export interface SelfCountingBody extends Readable {
  /** `listener` gets the size of every chunk handed on, in order. */
  observeBytes(listener: (bytes: number) => void): void;
}

export function isSelfCounting(body: Readable): body is SelfCountingBody {
  return typeof (body as Partial<SelfCountingBody>).observeBytes === 'function';
}
