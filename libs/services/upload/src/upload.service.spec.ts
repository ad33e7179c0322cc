import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { loadConfig } from '@ocireg/config';
import { JournalMetadata } from '@ocireg/metadata-journal';
import { FileUploadSessionStore } from '@ocireg/sessions-file';
import { FilesystemContentStore } from '@ocireg/storage-fs';
import { type AppendState, blobKey } from '@ocireg/storage';
import { UNSTARTED_SECONDS, UploadIds, uploadIdsFrom } from '@ocireg/contracts';
import { UploadService } from './upload.service';

const REPO = 'team/app';

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** UploadService on the embedded adapters (file sessions, filesystem content, journal metadata). */
describe('UploadService', () => {
  let dir: string;
  let store: FilesystemContentStore;
  let sessions: FileUploadSessionStore;
  let metadata: JournalMetadata;
  let uploads: UploadService;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocireg-upload-service-'));
    const config = loadConfig({ REGISTRY_DATA_DIR: dir }, 'embedded');
    store = new FilesystemContentStore({ rootDirectory: join(dir, 'content') });
    await store.init();
    sessions = new FileUploadSessionStore({ directory: join(dir, 'uploads') });
    await sessions.init();
    metadata = await JournalMetadata.open({ directory: join(dir, 'metadata') });
    uploads = new UploadService(config, sessions, store, metadata);
  });

  afterEach(async () => {
    await metadata.close();
    await sessions.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A whole object as the gateway writes it from a PUT's body. */
  async function wholeObject(bytes: Buffer): Promise<string> {
    const key = blobKey(`whole-${Math.random().toString(16).slice(2)}`);
    await store.completeAppend(key, await store.startAppend(key), Readable.from([bytes]));
    return key;
  }

  /** Appends `bytes` to an upload under a lease, as a PATCH does. */
  async function patch(id: string, bytes: Buffer): Promise<void> {
    const view = await uploads.claim(REPO, id, undefined);
    const append = await store.append(view.storageKey, view.append as never, Readable.from([bytes]));
    await uploads.advance({ repository: REPO, id, leaseToken: view.leaseToken ?? '', append });
  }

  /** A first chunk as the gateway writes it: appended (unfinished) to an object of its own. */
  async function ownChunk(bytes: Buffer): Promise<{ storageKey: string; append: AppendState }> {
    const storageKey = blobKey(`own-${Math.random().toString(16).slice(2)}`);
    const append = await store.append(storageKey, await store.startAppend(storageKey), Readable.from([bytes]));
    return { storageKey, append };
  }

  /** upload.complete: the one-call completion of an upload (see the contract). */
  describe('complete', () => {
    it('commits a whole object sent along when the upload holds nothing, and leaves no session behind', async () => {
      const bytes = Buffer.from('the whole blob in the PUT');
      const { id } = await uploads.start(REPO, false);
      const object = await wholeObject(bytes);
      const digest = digestOf(bytes);
      const { blob, offset } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object });
      expect(offset).toBeUndefined();
      expect(blob).toEqual({ digest, size: bytes.length, storageKey: object });
      expect(await metadata.blobs.findLinkedBlob(REPO, digest)).toEqual(blob);
      expect(await readAll(await store.read(object))).toEqual(bytes);
      expect(await sessions.get(id)).toBeUndefined();
    });

    it('removes what a failed PATCH left in the upload when a whole object replaces it', async () => {
      const { id } = await uploads.start(REPO, false);
      // A PATCH whose client went away: bytes written, never acknowledged, the lease given back.
      const view = await uploads.claim(REPO, id, 0);
      await store.append(view.storageKey, view.append as never, Readable.from([Buffer.from('half a chunk')]));
      await uploads.release(REPO, id, view.leaseToken ?? '');
      const bytes = Buffer.from('the blob, whole');
      const digest = digestOf(bytes);
      await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object: await wholeObject(bytes) });
      // Nothing unfinished is left for the purger.
      expect(await store.purgeUnfinished(new Date(Date.now() + 60_000))).toBe(0);
    });

    it("completes and commits the upload's own bytes when they are exactly the ones the digest covers", async () => {
      const bytes = Buffer.from('chunk one, chunk two');
      const { id, storageKey } = await uploads.start(REPO, false);
      await patch(id, bytes.subarray(0, 9));
      await patch(id, bytes.subarray(9));
      const digest = digestOf(bytes);
      const { blob } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length });
      expect(blob).toEqual({ digest, size: bytes.length, storageKey });
      expect(await readAll(await store.read(storageKey))).toEqual(bytes);
      expect(await sessions.get(id)).toBeUndefined();
    });

    it('changes nothing and answers the offset when the upload holds other bytes than the call assumes', async () => {
      const { id } = await uploads.start(REPO, false);
      await patch(id, Buffer.from('12345'));
      const digest = digestOf(Buffer.from('x'));
      const object = await wholeObject(Buffer.from('x'));
      // A whole object is only the blob of an empty upload.
      expect(await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: 1, object })).toEqual({ offset: 5 });
      // A digest over 3 bytes is not the digest of an upload of 5.
      expect(await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: 3 })).toEqual({ offset: 5 });
      const session = await sessions.get(id);
      expect(session?.append.size).toBe(5);
      expect(session?.lease).toBeUndefined();
      expect(await metadata.blobs.findBlob(digest)).toBeUndefined();
      // The upload goes on as before.
      await patch(id, Buffer.from('6'));
      expect((await uploads.status(REPO, id)).offset).toBe(6);
    });

    it('refuses while another request holds the lease (a PATCH writing): RANGE_INVALID, the upload untouched', async () => {
      const { id } = await uploads.start(REPO, false);
      const writer = await uploads.claim(REPO, id, 0);
      const bytes = Buffer.from('racing');
      const digest = digestOf(bytes);
      const object = await wholeObject(bytes);
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object })).rejects.toMatchObject({
        code: 'RANGE_INVALID',
      });
      expect((await sessions.get(id))?.lease?.token).toBe(writer.leaseToken);
      expect(await metadata.blobs.findBlob(digest)).toBeUndefined();
    });

    it('a PATCH that starts while a whole object is being committed fails when it reports; the blob is the whole object', async () => {
      const { id } = await uploads.start(REPO, false);
      const bytes = Buffer.from('the whole blob');
      const digest = digestOf(bytes);
      const object = await wholeObject(bytes);
      let racer: { leaseToken?: string; storageKey: string; append: unknown } | undefined;
      const commitBlob = metadata.blobs.commitBlob.bind(metadata.blobs);
      jest.spyOn(metadata.blobs, 'commitBlob').mockImplementationOnce(async (repository, blob) => {
        racer = await uploads.claim(REPO, id, 0);
        return commitBlob(repository, blob);
      });
      const { blob } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object });
      expect(racer?.leaseToken).toBeDefined();
      const append = await store.append(racer?.storageKey ?? '', racer?.append as never, Readable.from([Buffer.from('late chunk')]));
      await expect(uploads.advance({ repository: REPO, id, leaseToken: racer?.leaseToken ?? '', append })).rejects.toMatchObject({
        code: 'BLOB_UPLOAD_UNKNOWN',
      });
      expect(blob?.storageKey).toBe(object);
      expect(await readAll(await store.read(object))).toEqual(bytes);
    });

    it('a digest that does not match: DIGEST_INVALID, the upload and everything it stored are gone', async () => {
      const bytes = Buffer.from('not what was announced');
      const { id, storageKey } = await uploads.start(REPO, false);
      await patch(id, bytes);
      const announced = digestOf(Buffer.from('something else'));
      await expect(
        uploads.complete({ repository: REPO, id, digest: announced, computedDigest: digestOf(bytes), size: bytes.length }),
      ).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
      expect(await sessions.get(id)).toBeUndefined();
      expect(await metadata.blobs.findBlob(announced)).toBeUndefined();
      expect(await store.stat(storageKey)).toBeUndefined();
      await expect(store.completeAppend(storageKey, { size: bytes.length })).rejects.toThrow();

      const second = await uploads.start(REPO, false);
      const object = await wholeObject(bytes);
      await expect(
        uploads.complete({ repository: REPO, id: second.id, digest: announced, computedDigest: digestOf(bytes), size: bytes.length, object }),
      ).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
      expect(await store.stat(object)).toBeUndefined();
      expect(await sessions.get(second.id)).toBeUndefined();
    });

    it('an unknown upload, or one of another repository: BLOB_UPLOAD_UNKNOWN', async () => {
      const digest = digestOf(Buffer.from('x'));
      await expect(uploads.complete({ repository: REPO, id: 'no-such-upload', digest, computedDigest: digest, size: 0 })).rejects.toMatchObject({
        code: 'BLOB_UPLOAD_UNKNOWN',
      });
      const { id } = await uploads.start('other/repo', false);
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: 0 })).rejects.toMatchObject({
        code: 'BLOB_UPLOAD_UNKNOWN',
      });
    });

    it('keeps one copy of content already stored: the duplicate object is removed and the first one recorded', async () => {
      const bytes = Buffer.from('pushed twice');
      const digest = digestOf(bytes);
      const first = await uploads.start(REPO, false);
      const firstObject = await wholeObject(bytes);
      await uploads.complete({ repository: REPO, id: first.id, digest, computedDigest: digest, size: bytes.length, object: firstObject });
      const second = await uploads.start(REPO, false);
      const secondObject = await wholeObject(bytes);
      const { blob } = await uploads.complete({ repository: REPO, id: second.id, digest, computedDigest: digest, size: bytes.length, object: secondObject });
      expect(blob?.storageKey).toBe(firstObject);
      expect(await store.stat(secondObject)).toBeUndefined();
      expect(await store.stat(firstObject)).toEqual({ key: firstObject, size: bytes.length });
    });

    it('a commit that fails gives the lease back: the same call succeeds once the metadata store works again', async () => {
      const bytes = Buffer.from('retried');
      const digest = digestOf(bytes);
      const { id } = await uploads.start(REPO, false);
      await patch(id, bytes);
      const commitBlob = jest.spyOn(metadata.blobs, 'commitBlob').mockRejectedValueOnce(new Error('database unavailable'));
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length })).rejects.toThrow('database unavailable');
      expect((await sessions.get(id))?.lease).toBeUndefined();
      const { blob } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length });
      expect(commitBlob).toHaveBeenCalledTimes(2);
      expect(blob?.digest).toBe(digest);
      expect(await readAll(await store.read(blob?.storageKey ?? ''))).toEqual(bytes);
    });
  });

  /** upload.adopt: the first chunk written by the gateway into an object of its own, made the upload's. */
  describe('adopt', () => {
    it("makes the gateway's object the upload's: later chunks append to it and the commit records it", async () => {
      const { id } = await uploads.start(REPO, false);
      const own = await ownChunk(Buffer.from('first '));
      await expect(uploads.adopt({ repository: REPO, id, ...own })).resolves.toEqual({ offset: 6, adopted: true });
      const view = await uploads.claim(REPO, id, 6);
      expect(view.storageKey).toBe(own.storageKey);
      const append = await store.append(view.storageKey, view.append as AppendState, Readable.from([Buffer.from('second')]));
      await uploads.advance({ repository: REPO, id, leaseToken: view.leaseToken ?? '', append });
      const bytes = Buffer.from('first second');
      const digest = digestOf(bytes);
      const { blob } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length });
      expect(blob?.storageKey).toBe(own.storageKey);
      expect(await readAll(await store.read(own.storageKey))).toEqual(bytes);
    });

    it("discards what a failed PATCH left in the upload's own object", async () => {
      const { id } = await uploads.start(REPO, false);
      const view = await uploads.claim(REPO, id, 0);
      await store.append(view.storageKey, view.append as AppendState, Readable.from([Buffer.from('left behind')]));
      await uploads.release(REPO, id, view.leaseToken ?? '');
      const own = await ownChunk(Buffer.from('chunk'));
      await uploads.adopt({ repository: REPO, id, ...own });
      // Only the adopted object is unfinished now.
      expect(await store.purgeUnfinished(new Date(Date.now() + 60_000))).toBe(1);
    });

    it('changes nothing and answers the offset when the upload holds bytes already', async () => {
      const { id } = await uploads.start(REPO, false);
      await uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('1234'))) });
      const session = await sessions.get(id);
      const other = await ownChunk(Buffer.from('xy'));
      await expect(uploads.adopt({ repository: REPO, id, ...other })).resolves.toEqual({ offset: 4, adopted: false });
      expect(await sessions.get(id)).toEqual(session);
    });

    it('refuses while another request holds the lease, and the second of two racing first chunks', async () => {
      const { id } = await uploads.start(REPO, false);
      const writer = await uploads.claim(REPO, id, 0);
      await expect(uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('a'))) })).rejects.toMatchObject({ code: 'RANGE_INVALID' });
      await uploads.release(REPO, id, writer.leaseToken ?? '');

      // Both read the empty session; the first to replace it wins, the second finds its version gone.
      const stale = await sessions.get(id);
      await uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('winner'))) });
      jest.spyOn(sessions, 'get').mockResolvedValueOnce(stale);
      await expect(uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('loser'))) })).rejects.toMatchObject({
        code: 'RANGE_INVALID',
      });
      expect((await sessions.get(id))?.append.size).toBe(6);
    });

    it('an unknown upload, or one of another repository: BLOB_UPLOAD_UNKNOWN', async () => {
      const own = await ownChunk(Buffer.from('x'));
      await expect(uploads.adopt({ repository: REPO, id: 'no-such-upload', ...own })).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
      const { id } = await uploads.start('other/repo', false);
      await expect(uploads.adopt({ repository: REPO, id, ...own })).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    });
  });

  /** Signed upload ids (UploadIds): issued by the gateway, stored here only at the first write. */
  describe('signed ids', () => {
    let ids: UploadIds;

    beforeEach(() => {
      ids = uploadIdsFrom(loadConfig({ REGISTRY_DATA_DIR: dir }, 'embedded').uploads) as UploadIds;
    });

    const unknown = { code: 'BLOB_UPLOAD_UNKNOWN' };

    it('an id issued for the repository is an empty upload with nothing stored', async () => {
      const id = ids.issue(REPO);
      await expect(uploads.status(REPO, id)).resolves.toEqual({ id, offset: 0 });
      expect(await sessions.get(id)).toBeUndefined();
    });

    it('an id of another repository, altered, expired or signed with another secret: BLOB_UPLOAD_UNKNOWN', async () => {
      const id = ids.issue(REPO);
      await expect(uploads.status('other/repo', id)).rejects.toMatchObject(unknown);
      const altered = `${id.slice(0, 10)}${id[10] === '0' ? '1' : '0'}${id.slice(11)}`;
      await expect(uploads.status(REPO, altered)).rejects.toMatchObject(unknown);
      // Valid for an hour without a first write.
      await expect(uploads.status(REPO, ids.issue(REPO, Date.now() - (UNSTARTED_SECONDS - 60) * 1000))).resolves.toMatchObject({ offset: 0 });
      await expect(uploads.status(REPO, ids.issue(REPO, Date.now() - (UNSTARTED_SECONDS + 1) * 1000))).rejects.toMatchObject(unknown);
      await expect(uploads.status(REPO, new UploadIds('another secret of some length', UNSTARTED_SECONDS).issue(REPO))).rejects.toMatchObject(unknown);
    });

    it('a whole object commits without a session ever stored; the id is unknown from then on', async () => {
      const id = ids.issue(REPO);
      const bytes = Buffer.from('pushed with a POST and one PUT');
      const digest = digestOf(bytes);
      const object = await wholeObject(bytes);
      const { blob } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object });
      expect(blob).toEqual({ digest, size: bytes.length, storageKey: object });
      expect(await sessions.get(id)).toMatchObject({ id, ended: true });
      await expect(uploads.status(REPO, id)).rejects.toMatchObject(unknown);
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object: await wholeObject(bytes) })).rejects.toMatchObject(unknown);
      await expect(uploads.adopt({ repository: REPO, id, ...(await ownChunk(bytes)) })).rejects.toMatchObject(unknown);
      await expect(uploads.cancel(REPO, id)).rejects.toMatchObject(unknown);
    });

    it('chunks store the session at the first; the commit leaves the mark that keeps the id unknown', async () => {
      const id = ids.issue(REPO);
      await expect(uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('first '))) })).resolves.toEqual({ offset: 6, adopted: true });
      await patch(id, Buffer.from('second'));
      const bytes = Buffer.from('first second');
      const digest = digestOf(bytes);
      const { blob } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length });
      expect(await readAll(await store.read(blob?.storageKey ?? ''))).toEqual(bytes);
      expect(await sessions.get(id)).toMatchObject({ ended: true });
      await expect(uploads.claim(REPO, id, undefined)).rejects.toMatchObject(unknown);
    });

    it('a first chunk is stored in one write to the session store, without reading it first', async () => {
      const id = ids.issue(REPO);
      const get = jest.spyOn(sessions, 'get');
      const create = jest.spyOn(sessions, 'create');
      await expect(uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('first'))) })).resolves.toEqual({ offset: 5, adopted: true });
      expect(get).not.toHaveBeenCalled();
      expect(create).toHaveBeenCalledTimes(1);
      expect(await sessions.get(id)).toMatchObject({ id, version: 1, append: { size: 5 } });
      // A second first chunk finds the session stored: told the offset, nothing changed.
      await expect(uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('again'))) })).resolves.toEqual({ offset: 5, adopted: false });
    });

    it('a completion after chunks replaces the session by the mark in one write (no lease first), and refuses a chunk meanwhile', async () => {
      const id = ids.issue(REPO);
      const bytes = Buffer.from('chunked bytes');
      await uploads.adopt({ repository: REPO, id, ...(await ownChunk(bytes)) });
      const digest = digestOf(bytes);
      const compareAndSet = jest.spyOn(sessions, 'compareAndSet');
      let during: unknown;
      const commitBlob = metadata.blobs.commitBlob.bind(metadata.blobs);
      jest.spyOn(metadata.blobs, 'commitBlob').mockImplementationOnce(async (...args) => {
        // While the commit runs, the upload is already ended: a PATCH cannot slip in.
        during = await uploads.claim(REPO, id, bytes.length).catch((error: unknown) => error);
        return commitBlob(...args);
      });
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length })).resolves.toMatchObject({ blob: { digest } });
      expect(during).toMatchObject(unknown);
      expect(compareAndSet).toHaveBeenCalledTimes(1);
      expect(await sessions.get(id)).toMatchObject({ ended: true });
    });

    it('a completion after chunks whose commit fails puts the upload back as it was: the same call succeeds later', async () => {
      const id = ids.issue(REPO);
      const bytes = Buffer.from('retried after chunks');
      await uploads.adopt({ repository: REPO, id, ...(await ownChunk(bytes)) });
      const digest = digestOf(bytes);
      const commitBlob = jest.spyOn(metadata.blobs, 'commitBlob').mockRejectedValueOnce(new Error('database unavailable'));
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length })).rejects.toThrow('database unavailable');
      const after = await sessions.get(id);
      expect(after?.ended).toBeUndefined();
      expect(after?.append.size).toBe(bytes.length);
      await expect(uploads.status(REPO, id)).resolves.toEqual({ id, offset: bytes.length });
      const { blob } = await uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length });
      expect(commitBlob).toHaveBeenCalledTimes(2);
      expect(await readAll(await store.read(blob?.storageKey ?? ''))).toEqual(bytes);
      await expect(uploads.status(REPO, id)).rejects.toMatchObject(unknown);
    });

    it('a completion after chunks with a digest that does not match: DIGEST_INVALID, the bytes gone, the id unknown', async () => {
      const id = ids.issue(REPO);
      const own = await ownChunk(Buffer.from('some bytes'));
      await uploads.adopt({ repository: REPO, id, ...own });
      const computed = digestOf(Buffer.from('some bytes'));
      await expect(uploads.complete({ repository: REPO, id, digest: digestOf(Buffer.from('other')), computedDigest: computed, size: 10 })).rejects.toMatchObject({
        code: 'DIGEST_INVALID',
      });
      await expect(uploads.status(REPO, id)).rejects.toMatchObject(unknown);
      await expect(store.completeAppend(own.storageKey, own.append)).rejects.toThrow();
    });

    it('an upload that ends once its id is no longer valid leaves no mark: the id is unknown all the same', async () => {
      const issued = Date.now();
      const id = ids.issue(REPO, issued);
      await uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('slow'))) });
      const later = jest.spyOn(Date, 'now').mockReturnValue(issued + (UNSTARTED_SECONDS + 1) * 1000);
      try {
        const digest = digestOf(Buffer.from('slow'));
        await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: 4 })).resolves.toMatchObject({ blob: { digest } });
        expect(await sessions.get(id)).toBeUndefined();
        await expect(uploads.status(REPO, id)).rejects.toMatchObject(unknown);
      } finally {
        later.mockRestore();
      }
    });

    it('a first claim (a chunk the long way) stores the session under its lease', async () => {
      const id = ids.issue(REPO);
      const view = await uploads.claim(REPO, id, 0);
      expect(view.leaseToken).toBeDefined();
      expect(await sessions.get(id)).toMatchObject({ id, repository: REPO, version: 1, lease: { token: view.leaseToken } });
      await expect(uploads.claim(REPO, id, 0)).rejects.toMatchObject({ code: 'RANGE_INVALID' });
    });

    it('of two racing first chunks one is adopted; the other is refused or told the offset', async () => {
      const id = ids.issue(REPO);
      const results = await Promise.allSettled([
        uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('one'))) }),
        uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('three'))) }),
      ]);
      const adopted = results.filter((r) => r.status === 'fulfilled' && r.value.adopted);
      expect(adopted).toHaveLength(1);
      const other = results.find((r) => !(r.status === 'fulfilled' && r.value.adopted));
      if (other?.status === 'rejected') expect(other.reason).toMatchObject({ code: 'RANGE_INVALID' });
      else expect(other?.value).toMatchObject({ adopted: false });
    });

    it('a whole object after a first chunk went elsewhere: answers the offset, commits nothing', async () => {
      const id = ids.issue(REPO);
      await uploads.adopt({ repository: REPO, id, ...(await ownChunk(Buffer.from('chunk'))) });
      const bytes = Buffer.from('whole');
      const digest = digestOf(bytes);
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: 5, object: await wholeObject(bytes) })).resolves.toEqual({ offset: 5 });
      expect(await metadata.blobs.findLinkedBlob(REPO, digest)).toBeUndefined();
    });

    it('a cancelled id is unknown: no chunk starts it again', async () => {
      const fresh = ids.issue(REPO);
      await expect(uploads.cancel(REPO, fresh)).resolves.toBe(true);
      await expect(uploads.adopt({ repository: REPO, id: fresh, ...(await ownChunk(Buffer.from('late'))) })).rejects.toMatchObject(unknown);

      const started = ids.issue(REPO);
      const own = await ownChunk(Buffer.from('written'));
      await uploads.adopt({ repository: REPO, id: started, ...own });
      await expect(uploads.cancel(REPO, started)).resolves.toBe(true);
      await expect(uploads.status(REPO, started)).rejects.toMatchObject(unknown);
      // The cancelled upload's bytes are gone.
      await expect(store.completeAppend(own.storageKey, own.append)).rejects.toThrow();
    });

    it('a digest that does not match: DIGEST_INVALID, the object removed, the id unknown', async () => {
      const id = ids.issue(REPO);
      const bytes = Buffer.from('not what was announced');
      const object = await wholeObject(bytes);
      await expect(
        uploads.complete({ repository: REPO, id, digest: digestOf(Buffer.from('other')), computedDigest: digestOf(bytes), size: bytes.length, object }),
      ).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
      expect(await store.stat(object)).toBeUndefined();
      await expect(uploads.status(REPO, id)).rejects.toMatchObject(unknown);
    });

    it('a commit that fails leaves the id as it was: the same call succeeds once the metadata store works again', async () => {
      const id = ids.issue(REPO);
      const bytes = Buffer.from('retried');
      const digest = digestOf(bytes);
      const object = await wholeObject(bytes);
      const commitBlob = jest.spyOn(metadata.blobs, 'commitBlob').mockRejectedValueOnce(new Error('database unavailable'));
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object })).rejects.toThrow('database unavailable');
      expect(await sessions.get(id)).toBeUndefined();
      commitBlob.mockRestore();
      await expect(uploads.complete({ repository: REPO, id, digest, computedDigest: digest, size: bytes.length, object })).resolves.toMatchObject({ blob: { digest } });
    });
  });
});
