import { crc32 } from 'node:zlib';
import { join } from 'node:path';

/**
 * The persistent layout of the journal metadata store, version 1. In its directory:
 *
 * - `LOCK`: the PID of the process that holds the store (created with O_EXCL; one process at a time).
 * - `journal-<generation>.log`: mutations in acknowledgement order, one framed record a line.
 * - `snapshot-<generation>.json`: the whole state when journal `<generation>` began (none for generation 0).
 * - `snapshot-<generation>.json.tmp`: a snapshot being written (ignored and removed when opening).
 *
 * A compaction starts journal G+1, then writes snapshot G+1 (the state at the end of journal G) and only then
 * removes the files of generations up to G. So the state is always the snapshot of the highest generation S
 * (empty when there is none) followed by journals S, S+1, ... replayed in order, without a gap; files of
 * generations below S are leftovers, removed when opening. Only the last journal may end with a torn record.
 *
 * A record (and a snapshot, whose body is one record) is framed as `<crc32 8 hex> <byte length> <json>\n`,
 * the CRC-32 and the length being those of the JSON's UTF-8 bytes. JSON never contains a raw newline.
 */
export const LAYOUT_VERSION = 1;
export const LOCK_FILE = 'LOCK';

export const journalFile = (directory: string, generation: number): string => join(directory, `journal-${generation}.log`);
export const snapshotFile = (directory: string, generation: number): string => join(directory, `snapshot-${generation}.json`);

const GENERATION_FILE = /^(journal|snapshot)-(\d+)\.(log|json)(\.tmp)?$/;

export interface LayoutFile {
  name: string;
  kind: 'journal' | 'snapshot';
  generation: number;
  temporary: boolean;
}

export function parseLayoutName(name: string): LayoutFile | undefined {
  const match = GENERATION_FILE.exec(name);
  if (!match) return undefined;
  const kind = match[1] === 'journal' ? 'journal' : 'snapshot';
  if ((kind === 'journal') !== (match[3] === 'log')) return undefined;
  return { name, kind, generation: Number(match[2]), temporary: match[4] !== undefined };
}

export function frame(json: string): string {
  const bytes = Buffer.from(json, 'utf8');
  return `${crc32(bytes).toString(16).padStart(8, '0')} ${bytes.length} ${json}\n`;
}

/** Parsed frames of a buffer, up to the first torn or corrupt one; `validLength` is where it begins. */
export function readFrames(buffer: Buffer): { bodies: string[]; validLength: number } {
  const bodies: string[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const end = buffer.indexOf(0x0a, offset);
    if (end < 0) break;
    const body = parseFrame(buffer.subarray(offset, end));
    if (body === undefined) break;
    bodies.push(body);
    offset = end + 1;
  }
  return { bodies, validLength: offset };
}

function parseFrame(line: Buffer): string | undefined {
  const firstSpace = line.indexOf(0x20);
  const secondSpace = firstSpace < 0 ? -1 : line.indexOf(0x20, firstSpace + 1);
  if (firstSpace !== 8 || secondSpace < 0) return undefined;
  const checksum = line.subarray(0, 8).toString('latin1');
  const length = line.subarray(firstSpace + 1, secondSpace).toString('latin1');
  if (!/^[0-9a-f]{8}$/.test(checksum) || !/^\d+$/.test(length)) return undefined;
  const body = line.subarray(secondSpace + 1);
  if (body.length !== Number(length)) return undefined;
  if (crc32(body) !== parseInt(checksum, 16)) return undefined;
  return body.toString('utf8');
}
