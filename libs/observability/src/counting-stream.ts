import { Transform, TransformCallback } from 'node:stream';

/** Passes bytes through unchanged, telling `onBytes` how many went by (for byte counters). */
export class CountingStream extends Transform {
  constructor(private readonly onBytes: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onBytes(chunk.length);
    callback(null, chunk);
  }
}
