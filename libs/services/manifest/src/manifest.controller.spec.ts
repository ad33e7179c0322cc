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

function setUp() {
  const recorded: NewManifest[] = [];
  const metadata = {
    manifests: {
      putManifest: jest.fn(async (_repository: string, record: NewManifest) => {
        recorded.push(record);
        return { missing: [] };
      }),
    },
  } as unknown as Metadata;
  const read = jest.fn(async () => Readable.from([manifest]));
  const store = { read } as unknown as ContentStore;
  const controller = new ManifestController({ manifests: { maxSize: 4 * 1024 * 1024 } } as RegistryConfig, metadata, store);
  const request = { repository: 'library/x', tag: 'latest', digest, size: manifest.length, storageKey: `manifests/${digest}`, contentType: 'application/vnd.oci.image.manifest.v1+json' };
  return { controller, read, recorded, request };
}

describe('ManifestController manifest.put', () => {
  it('records the references of a manifest sent along, without reading storage', async () => {
    const { controller, read, recorded, request } = setUp();
    await expect(controller.put({ ...request, body: manifest.toString('base64') })).resolves.toEqual({ digest, subject: undefined });
    expect(read).not.toHaveBeenCalled();
    expect(recorded[0]).toMatchObject({ digest, blobs: expect.arrayContaining([layer, config]), manifests: [] });
  });

  it('reads a manifest that was not sent along back from where the gateway stored it', async () => {
    const { controller, read, recorded, request } = setUp();
    await controller.put(request);
    expect(read).toHaveBeenCalledWith(`manifests/${digest}`);
    expect(recorded[0]).toMatchObject({ digest, blobs: expect.arrayContaining([layer, config]) });
  });

  it('refuses a body whose size is not the announced one (records nothing)', async () => {
    const { controller, recorded, request } = setUp();
    await expect(controller.put({ ...request, body: manifest.subarray(1).toString('base64') })).rejects.toThrow(/bytes, not/);
    expect(recorded).toEqual([]);
  });
});
