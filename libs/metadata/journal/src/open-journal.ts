import { type FileHandle, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LAYOUT_VERSION, journalFile, parseLayoutName, readFrames, snapshotFile } from './layout';
import { syncDirectory } from './journal-log';
import type { JournalRecord, SnapshotData } from './records';
import { MetadataState } from './state';

export interface LoadedJournal {
  state: MetadataState;
  generation: number;
  handle: FileHandle;
  size: number;
  /** Bytes of a torn or corrupt tail that were dropped from the journal. */
  droppedBytes: number;
}

interface SnapshotBody {
  version: number;
  generation: number;
  data: SnapshotData;
}

/**
 * Loads the state of a directory (the lock already held): the highest-generation snapshot, then the journals
 * of that generation and later ones (a compaction whose snapshot is not in place yet leaves two) replayed in
 * order. The last journal may end with a torn or corrupt record (a crash during a write): it and whatever
 * follows are dropped and the file truncated. Then opens that journal for appending and removes leftovers of
 * earlier generations and unfinished snapshots.
 */
export async function loadJournal(directory: string): Promise<LoadedJournal> {
  await mkdir(directory, { recursive: true });
  const files = (await readdir(directory)).map(parseLayoutName).filter((file) => file !== undefined);
  for (const file of files.filter((f) => f.temporary)) await rm(join(directory, file.name), { force: true });
  const snapshots = files.filter((f) => f.kind === 'snapshot' && !f.temporary).map((f) => f.generation);
  const base = snapshots.length > 0 ? Math.max(...snapshots) : 0;
  const chain = journalChain(directory, base, files.filter((f) => f.kind === 'journal' && !f.temporary).map((f) => f.generation));
  const state = base > 0 ? await readSnapshot(directory, base) : new MetadataState();

  for (const generation of chain.slice(0, -1)) {
    const path = journalFile(directory, generation);
    const buffer = await readFile(path);
    const { bodies, validLength } = readFrames(buffer);
    if (validLength < buffer.length) throw new Error(`metadata journal ${path} is corrupt at byte ${validLength}, and is not the last journal; refusing to open`);
    replay(state, path, bodies);
  }
  const generation = chain[chain.length - 1] ?? base;
  const path = journalFile(directory, generation);
  const handle = await open(path, 'a+');
  try {
    const buffer = await handle.readFile();
    const { bodies, validLength } = readFrames(buffer);
    replay(state, path, bodies);
    if (validLength < buffer.length) {
      await handle.truncate(validLength);
      await handle.sync();
    }
    await syncDirectory(directory);
    for (const file of files.filter((f) => !f.temporary && f.generation < base)) {
      await rm(join(directory, file.name), { force: true });
    }
    return { state, generation, handle, size: validLength, droppedBytes: buffer.length - validLength };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The journals to replay after snapshot `base`: base, base+1, ... without a gap (empty: a new journal). */
function journalChain(directory: string, base: number, journals: number[]): number[] {
  const chain = journals.filter((generation) => generation >= base).sort((a, b) => a - b);
  chain.forEach((generation, index) => {
    if (generation !== base + index) {
      throw new Error(`metadata journal ${directory}: journal-${base + index}.log is missing before journal-${generation}.log; refusing to open`);
    }
  });
  return chain;
}

function replay(state: MetadataState, path: string, bodies: string[]): void {
  for (const [index, body] of bodies.entries()) {
    let record: JournalRecord;
    try {
      record = JSON.parse(body) as JournalRecord;
    } catch (error) {
      throw new Error(`metadata journal ${path}: record ${index + 1} is not JSON`, { cause: error });
    }
    state.apply(record);
  }
}

async function readSnapshot(directory: string, generation: number): Promise<MetadataState> {
  const path = snapshotFile(directory, generation);
  const { bodies, validLength } = readFrames(await readFile(path));
  const body = bodies[0];
  if (bodies.length !== 1 || body === undefined || validLength === 0) {
    throw new Error(`metadata journal ${directory}: the snapshot ${path} is corrupt; refusing to open`);
  }
  const snapshot = JSON.parse(body) as SnapshotBody;
  if (snapshot.version !== LAYOUT_VERSION || snapshot.generation !== generation) {
    throw new Error(`metadata journal ${directory}: ${path} has layout version ${snapshot.version}, generation ${snapshot.generation}`);
  }
  return MetadataState.fromSnapshot(snapshot.data);
}

export function snapshotBody(state: MetadataState, generation: number): string {
  const body: SnapshotBody = { version: LAYOUT_VERSION, generation, data: state.toSnapshot() };
  return JSON.stringify(body);
}
