import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryConfig } from '@ocireg/config';
import type { RegistryRpc } from '@ocireg/contracts';
import { ContentNotFoundError, type ContentStore } from '@ocireg/storage';
import { ManifestsHandler } from './manifests.handler';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 };
const manifestOf = (extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: CONFIG, layers: [], ...extra }));
const manifest = manifestOf();
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
const view = { digest, mediaType: OCI_MANIFEST, size: manifest.length, storageKey: `v1/manifests/sha256/${digest.slice(7, 9)}/${digest.slice(7)}` };

/**
 * A manifest service that keeps the bytes in its metadata (they come with manifest.resolve) behind a cache of
 * answers that does not keep them; a content store that may or may not hold the manifest's file.
 */
function setUp(options: { body: 'always' | 'fresh' | 'never'; inStore: boolean }) {
  const calls: Array<Record<string, unknown>> = [];
  const rpc = {
    call: jest.fn(async (subject: string, request: Record<string, unknown>) => {
      calls.push({ subject, ...request });
      if (subject === 'manifest.put') return { digest };
      const withBody = options.body === 'always' || (options.body === 'fresh' && request['fresh'] === true);
      return withBody ? { ...view, body: manifest.toString('base64') } : view;
    }),
  } as unknown as RegistryRpc;
  const read = jest.fn(async (key: string) => {
    if (!options.inStore) throw new ContentNotFoundError(key);
    return Readable.from([manifest]);
  });
  const write = jest.fn(async (key: string, bytes: Buffer) => ({ key, size: bytes.length }));
  const stat = jest.fn(async () => undefined);
  const store = { read, write, stat } as unknown as ContentStore;
  const handler = new ManifestsHandler({ manifests: { maxSize: 4 * 1024 * 1024 } } as RegistryConfig, rpc, store);
  return { handler, calls, read, write, rpcCall: rpc.call as jest.Mock };
}

function get(handler: ManifestsHandler, reference: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const reply = {
      status: () => reply,
      headers: () => reply,
      send: (payload?: Buffer) => resolve(payload ?? Buffer.alloc(0)),
    };
    const request = { headers: { accept: OCI_MANIFEST } } as unknown as FastifyRequest;
    handler.get('a/b', reference, request, reply as unknown as FastifyReply, false).catch(reject);
  });
}

describe('ManifestsHandler', () => {
  it('serves the bytes that came with the answer, without reading the content store', async () => {
    const { handler, read } = setUp({ body: 'always', inStore: false });
    expect((await get(handler, 'v1')).equals(manifest)).toBe(true);
    expect(read).not.toHaveBeenCalled();
  });

  it('reads the content store when the answer has no bytes (a manifest recorded with its file)', async () => {
    const { handler, calls, read } = setUp({ body: 'never', inStore: true });
    expect((await get(handler, 'v1')).equals(manifest)).toBe(true);
    expect(read).toHaveBeenCalledWith(view.storageKey);
    expect(calls.filter((c) => c['fresh'] === true)).toEqual([]);
  });

  it('asks again past the cache of answers when neither its cache of bytes nor the content store has them', async () => {
    const { handler, calls } = setUp({ body: 'fresh', inStore: false });
    expect((await get(handler, 'v1')).equals(manifest)).toBe(true);
    expect(calls).toEqual([
      { subject: 'manifest.resolve', repository: 'a/b', reference: 'v1' },
      { subject: 'manifest.resolve', repository: 'a/b', reference: digest, fresh: true },
    ]);
  });

  it('fails as the content store did when the manifest is in neither', async () => {
    const { handler } = setUp({ body: 'never', inStore: false });
    await expect(get(handler, 'v1')).rejects.toBeInstanceOf(ContentNotFoundError);
  });

  it('sends a small manifest along without writing it, and writes a large one before recording it', async () => {
    const { handler, calls, write, rpcCall } = setUp({ body: 'never', inStore: false });
    const reply = { status: () => reply, headers: () => reply, send: () => reply };
    const put = (bytes: Buffer) =>
      handler.put('a/b', 'v1', { headers: { 'content-type': OCI_MANIFEST }, body: Readable.from([bytes]) } as unknown as FastifyRequest, reply as unknown as FastifyReply);
    await put(manifest);
    expect(write).not.toHaveBeenCalled();
    expect(calls[0]).toMatchObject({ subject: 'manifest.put', body: manifest.toString('base64') });

    const large = manifestOf({ annotations: { pad: 'x'.repeat(70 * 1024) } });
    await put(large);
    expect(write).toHaveBeenCalledTimes(1);
    expect(write.mock.invocationCallOrder[0]).toBeLessThan(rpcCall.mock.invocationCallOrder[1] ?? 0);
    expect(calls[1]).toMatchObject({ subject: 'manifest.put', size: large.length });
    expect(calls[1]?.['body']).toBeUndefined();
  });
});
