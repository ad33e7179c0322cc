import { constants } from 'node:fs';
import type { Readable } from 'node:stream';
import { type FsCalls, datasync, writeAt } from './fs-calls';
import { BackgroundSync, toBuffer } from './fs-files';

/**
 * Direct I/O for the bytes of large writes (O_DIRECT): they go from an aligned buffer of ours to the disk
 * without passing through the page cache. A blob is written once and read later, maybe never, so caching it
 * while it is written buys little, and filling the page cache costs: the kernel copies every byte and finds a
 * free page for every 4 KiB, which on a virtual machine that hands free memory back to its host (free page
 * reporting) means a fault into the hypervisor per page (about 2 ms of kernel CPU per MB here, most of a
 * push's cost). Direct writes cost a few percent of that. Reads still go through the page cache.
 *
 * The kernel wants the file offset, the length and the buffer's address aligned: only whole aligned blocks go
 * direct, copied into page-aligned slots; the bytes before the first aligned offset and after the last whole
 * block go through the page cache as before (the final sync flushes them). Where the filesystem refuses
 * O_DIRECT (EINVAL: tmpfs on older kernels, some FUSE and network filesystems) the store falls back to
 * buffered writes for good.
 */

/** Alignment of direct writes' offsets, lengths and buffers: the page size, a multiple of any block size in use. */
export const DIRECT_ALIGN = 4096;
/**
 * The least a direct write carries: below it the extra open and the synchronous disk write cost more than the
 * page cache does (manifests, configs, the last bytes of a blob).
 */
export const DIRECT_MIN = 256 * 1024;
/** Bytes per direct write: one slot. */
export const SLOT_SIZE = 1024 * 1024;
/**
 * The first slot of a write goes out in pieces of this size as it fills: the disk writes the first bytes
 * while the rest still arrives (and is hashed), so a small blob (1 MiB) does not wait for one whole-slot
 * write after its last byte. Later slots go out whole (fewer calls for a large blob, whose last write is a
 * small part of its time).
 */
export const FIRST_PIECE = 256 * 1024;
/** Slots a writer takes: one fills while the other is written (four, three writes in flight, measured no faster). */
const SLOTS_PER_WRITER = 2;
/** Slots in the process's pool: 16 writers at a time go direct, the others write through the page cache. */
const POOL_SLOTS = 32;

/**
 * A fixed pool of page-aligned buffers. A Buffer's memory comes from malloc and is not page-aligned (the kernel
 * refuses an address off a 512-byte boundary; one off a page boundary wrote at 36 MB/s here, against 610 MB/s
 * aligned); a WebAssembly memory is mapped by V8 on page boundaries.
 * Allocated on first use; pages count in RSS once touched.
 */
export class AlignedSlots {
  private free: Buffer[] | undefined;

  constructor(
    private readonly count = POOL_SLOTS,
    readonly size = SLOT_SIZE,
  ) {}

  /** `n` slots, or undefined when fewer are free (the caller writes through the page cache instead). */
  take(n: number): Buffer[] | undefined {
    if (!this.free) {
      const pages = Math.ceil((this.count * this.size) / 65536);
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      const all = Buffer.from(memory.buffer);
      this.free = Array.from({ length: this.count }, (_, i) => all.subarray(i * this.size, (i + 1) * this.size));
    }
    return this.free.length >= n ? this.free.splice(this.free.length - n, n) : undefined;
  }

  give(slots: Buffer[]): void {
    this.free?.push(...slots);
  }

  get available(): number {
    return this.free?.length ?? this.count;
  }
}

const processSlots = new AlignedSlots();

// The global exists in every Node; the project's TypeScript libs (no DOM) do not describe it.
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum?: number }) => { readonly buffer: ArrayBuffer } };

/** The system calls of direct writes (tests substitute ones that count or fail). */
export interface DirectCalls {
  /** Opens a file a second time, for direct writes. */
  open(file: string, calls: FsCalls): Promise<number>;
  /** One direct write; resolves with the bytes written. */
  write(fd: number, buffer: Buffer, length: number, position: number): Promise<number>;
}

export const DIRECT_CALLS: DirectCalls = {
  open: (file, calls) => calls.open(file, constants.O_WRONLY | constants.O_DIRECT),
  write: (fd, buffer, length, position) => writeAt(fd, buffer, 0, length, position),
};

/** A store's direct I/O: whether it is on, its slots, and the fallback once the filesystem refused it. */
export class DirectIo {
  private refused: boolean;

  constructor(
    enabled: boolean,
    readonly slots: AlignedSlots = processSlots,
    readonly calls: DirectCalls = DIRECT_CALLS,
  ) {
    this.refused = !enabled || constants.O_DIRECT === undefined;
  }

  /** On, and not refused by the filesystem so far. */
  get active(): boolean {
    return !this.refused;
  }

  /** Opens the file a second time, for direct writes; undefined once the filesystem has refused O_DIRECT. */
  async open(file: string, calls: FsCalls): Promise<number | undefined> {
    if (this.refused) return undefined;
    try {
      return await this.calls.open(file, calls);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      this.refused = true;
      return undefined;
    }
  }

  /** A direct write failed with EINVAL although the open succeeded: buffered writes from now on. */
  refuse(): void {
    this.refused = true;
  }
}

/** How Linux says a filesystem (or a buffer) does not do direct I/O. */
export function isRefusal(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EINVAL';
}

/**
 * Writes a stream into the file at `start` through aligned slots (see above), syncing it with `sync`; returns
 * the bytes written. `fd` is the file opened for buffered writes (the unaligned head and tail, and every
 * byte if direct I/O turns out to be refused), possibly still being opened (created): the body fills the
 * slots meanwhile, and the writes wait for it. The caller closes it, after this has settled. The direct
 * descriptor is opened by the first direct write (a segment of at least DIRECT_MIN), so small writes never
 * pay for it. One slot is written while the other fills (the first one in pieces, see FIRST_PIECE): two
 * slots in memory.
 */
export async function writeStreamDirect(
  calls: FsCalls,
  fd: number | Promise<number>,
  file: string,
  body: Readable,
  start: number,
  sync: boolean,
  direct: DirectIo,
  fallback: () => Promise<number>,
): Promise<number> {
  const slots = direct.active ? direct.slots.take(SLOTS_PER_WRITER) : undefined;
  if (!slots) return fallback();
  let index = 0;
  let filling = slots[0] as Buffer;
  /** Writes in flight, oldest first, with the slot each reads from (the slots are used round the ring). */
  const inflight: Array<{ slot: number; writing: Promise<void> }> = [];
  let opening: Promise<number | undefined> | undefined;
  const background = new BackgroundSync(fd);
  let position = start;
  /** Bytes in the filling slot, and how many of them are already on their way to the file. */
  let filled = 0;
  let submitted = 0;
  // The first segment stops at the first aligned offset (page cache); the first slot after it goes in pieces.
  const head = (DIRECT_ALIGN - (start % DIRECT_ALIGN)) % DIRECT_ALIGN;
  let inHead = head > 0;
  let inFirstSlot = true;
  let target = head || FIRST_PIECE;

  const put = async (buffer: Buffer, length: number, at: number): Promise<void> => {
    let done = 0;
    const bufferedFd = await fd;
    if (at % DIRECT_ALIGN === 0 && length >= DIRECT_MIN) {
      opening ??= direct.open(file, calls);
      const directFd = await opening;
      if (directFd !== undefined && direct.active) {
        try {
          done = await direct.calls.write(directFd, buffer, length - (length % DIRECT_ALIGN), at);
        } catch (error) {
          if (!isRefusal(error)) throw error;
          direct.refuse();
        }
      }
    }
    // The unaligned rest, a short direct write's remainder, or everything once direct I/O is refused.
    while (done < length) done += await writeAt(bufferedFd, buffer, done, length - done, at + done);
  };
  // While the file is still being created, the first slot's pieces wait and go out as one write.
  let fdReady = typeof fd === 'number';
  if (!fdReady) Promise.resolve(fd).then(() => (fdReady = true), () => undefined);
  /** Sends the filled, unsent bytes of the slot to the file; moves to the next slot when this one is done. */
  const submit = async (slotDone: boolean): Promise<void> => {
    if (!slotDone && !fdReady) {
      target = Math.min(filling.length, filled + FIRST_PIECE);
      return;
    }
    const length = filled - submitted;
    const writing = put(filling.subarray(submitted), length, position);
    writing.catch(() => undefined); // awaited when its slot comes round again, or at the end
    inflight.push({ slot: index, writing });
    position += length;
    submitted = filled;
    // Direct writes still leave the disk's own cache to flush.
    background.wrote(length, writing);
    if (!slotDone) {
      target = Math.min(filling.length, filled + FIRST_PIECE);
      return;
    }
    if (inHead) inHead = false;
    else inFirstSlot = false;
    filled = 0;
    submitted = 0;
    index = (index + 1) % slots.length;
    filling = slots[index] as Buffer;
    target = inFirstSlot ? FIRST_PIECE : filling.length;
    // The slot to fill next must no longer be read by a write: the oldest writes, from that slot, end first.
    while (inflight[0]?.slot === index) await inflight.shift()?.writing;
  };

  try {
    for await (const chunk of body) {
      const bytes = toBuffer(chunk);
      let offset = 0;
      while (offset < bytes.length) {
        const n = Math.min(bytes.length - offset, target - filled);
        bytes.copy(filling, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === target) await submit(inHead || filled === filling.length);
      }
    }
    if (filled > submitted) await submit(true);
    while (inflight.length > 0) await inflight.shift()?.writing;
    await background.ended();
    if (sync) await datasync(await fd);
    return position - start;
  } finally {
    // No slot goes back while a write may still read from it.
    await Promise.allSettled(inflight.map(({ writing }) => writing));
    await background.settled();
    direct.slots.give(slots);
    const directFd = await opening?.catch(() => undefined);
    if (directFd !== undefined) await calls.close(directFd);
  }
}
