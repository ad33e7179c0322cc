import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RegistryConfig } from '@ocireg/config';
import type { Metadata, NewManifest } from '@ocireg/metadata';
import type { ContentStore } from '@ocireg/storage';
import { ManifestController } from './manifest.controller';

const layer = `sha256:${'a'.repeat(64)}`;
const config = `sha256:${'b'.repeat(64)}`;
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: 3 }],
  }),
);
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

function setUp(keepsBodies = true, stored = false) {
  const recorded: NewManifest[] = [];
  const events: string[] = [];
  const metadata = {
    manifests: {
      keepsBodies,
      putManifest: jest.fn(async (_repository: string, record: NewManifest) => {
        recorded.push(record);
        events.push('record');
        return { missing: [] };
      }),
      findManifest: jest.fn(async (_repository: string, found: string) => (found === digest ? recorded.find((r) => r.digest === found) : undefined)),
    },
  } as unknown as Metadata;
  const read = jest.fn(async () => Readable.from([manifest]));
  const written: Array<{ key: string; bytes: Buffer }> = [];
  const write = jest.fn(async (key: string, bytes: Buffer) => {
    written.push({ key, bytes });
    events.push('write');
    return { key, size: bytes.length };
  });
  const stat = jest.fn(async (key: string) => (stored ? { key, size: manifest.length } : undefined));
  const store = { read, write, stat } as unknown as ContentStore;
  const controller = new ManifestController({ manifests: { maxSize: 4 * 1024 * 1024 } } as RegistryConfig, metadata, store);
  const request = { repository: 'library/x', tag: 'latest', digest, size: manifest.length, storageKey: `manifests/${digest}`, contentType: 'application/vnd.oci.image.manifest.v1+json' };
  return { controller, events, read, recorded, request, written };
}

describe('ManifestController manifest.put', () => {
  it('records the references of a manifest sent along, without reading storage', async () => {
    const { controller, read, recorded, request } = setUp();
    await expect(controller.put({ ...request, body: manifest.toString('base64') })).resolves.toEqual({ digest, subject: undefined });
    expect(read).not.toHaveBeenCalled();
    expect(recorded[0]).toMatchObject({ digest, blobs: expect.arrayContaining([layer, config]), manifests: [] });
  });

  it('keeps the bytes sent along in the metadata that keeps them, and writes nothing to the content store', async () => {
    const { controller, recorded, request, written } = setUp(true);
    await controller.put({ ...request, body: manifest.toString('base64') });
    expect(recorded[0]?.body?.equals(manifest)).toBe(true);
    expect(written).toEqual([]);
    // manifest.resolve then answers with them.
    const view = await controller.resolve({ repository: 'library/x', reference: digest });
    expect(Buffer.from(view.body ?? '', 'base64').equals(manifest)).toBe(true);
  });

  it('writes the bytes sent along to the content store, before the record, where the metadata does not keep them', async () => {
    const { controller, events, recorded, request, written } = setUp(false);
    await controller.put({ ...request, body: manifest.toString('base64') });
    expect(events).toEqual(['write', 'record']);
    expect(written).toHaveLength(1);
    expect(written[0]?.key).toBe(request.storageKey);
    expect(written[0]?.bytes.equals(manifest)).toBe(true);
    expect(recorded[0]?.body).toBeUndefined();
  });

  it('does not write the bytes again when the content store already has them', async () => {
    const { controller, recorded, request, written } = setUp(false, true);
    await controller.put({ ...request, body: manifest.toString('base64') });
    expect(written).toEqual([]);
    expect(recorded).toHaveLength(1);
  });

  it('reads a manifest that was not sent along back from where the gateway stored it', async () => {
    const { controller, read, recorded, request, written } = setUp();
    await controller.put(request);
    expect(read).toHaveBeenCalledWith(`manifests/${digest}`);
    expect(recorded[0]).toMatchObject({ digest, blobs: expect.arrayContaining([layer, config]) });
    expect(recorded[0]?.body).toBeUndefined();
    expect(written).toEqual([]);
  });

  it('refuses a body whose size is not the announced one (records nothing)', async () => {
    const { controller, recorded, request } = setUp();
    await expect(controller.put({ ...request, body: manifest.subarray(1).toString('base64') })).rejects.toThrow(/bytes, not/);
    expect(recorded).toEqual([]);
  });
});
