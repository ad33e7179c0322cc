import { RegistryError } from '@ocireg/errors';
import { digestOf } from './digest';
import { parseManifest } from './manifest';
import { MediaTypes } from './media-types';

const d = (s: string) => digestOf(s);
const desc = (mediaType: string, seed: string) => ({ mediaType, digest: d(seed), size: 10 });

function body(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).kind).toBe('MANIFEST_INVALID');
    return;
  }
  throw new Error('expected MANIFEST_INVALID');
}

describe('parseManifest', () => {
  const image = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: desc(MediaTypes.ociConfig, 'config'),
    layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', 'l1'), desc(`${MediaTypes.ociNondistributableLayerPrefix}v1.tar`, 'foreign')],
    subject: desc(MediaTypes.ociManifest, 'subject'),
    annotations: { a: 'b' },
  };

  it('extracts the blobs an image manifest needs, skipping non-distributable layers', () => {
    const parsed = parseManifest(body(image), MediaTypes.ociManifest);
    expect(parsed).toEqual({
      mediaType: MediaTypes.ociManifest,
      blobs: [d('config'), d('l1')],
      manifests: [],
      subject: d('subject'),
      artifactType: MediaTypes.ociConfig,
      annotations: { a: 'b' },
    });
  });

  it('extracts the children of an index', () => {
    const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [desc(MediaTypes.ociManifest, 'm1')], artifactType: 'x/y' };
    expect(parseManifest(body(index), MediaTypes.ociIndex)).toMatchObject({ blobs: [], manifests: [d('m1')], artifactType: 'x/y' });
  });

  it('infers the media type of an OCI manifest without one', () => {
    const { mediaType: _omit, ...bare } = image;
    expect(parseManifest(body(bare), undefined).mediaType).toBe(MediaTypes.ociManifest);
  });

  it('accepts Docker schema2 manifests and manifest lists', () => {
    expect(parseManifest(body({ ...image, mediaType: MediaTypes.dockerManifest }), MediaTypes.dockerManifest).mediaType).toBe(MediaTypes.dockerManifest);
    const list = { schemaVersion: 2, mediaType: MediaTypes.dockerManifestList, manifests: [desc(MediaTypes.dockerManifest, 'm')] };
    expect(parseManifest(body(list), MediaTypes.dockerManifestList).manifests).toEqual([d('m')]);
  });

  it('refuses a mediaType that contradicts the Content-Type', () => {
    expectInvalid(() => parseManifest(body(image), MediaTypes.dockerManifest));
  });

  it.each([
    ['not JSON', Buffer.from('{')],
    ['a JSON array', body([])],
    ['schemaVersion 1', body({ ...image, schemaVersion: 1 })],
    ['a bad layer digest', body({ ...image, layers: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] })],
    ['a negative size', body({ ...image, config: { ...image.config, size: -1 } })],
    ['missing layers', body({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: image.config })],
    ['an unknown media type', body({ ...image, mediaType: 'application/x-unknown' })],
  ])('refuses %s', (_label, bytes) => {
    expectInvalid(() => parseManifest(bytes, MediaTypes.ociManifest));
  });

  it('refuses schema 1', () => {
    expectInvalid(() => parseManifest(body({ schemaVersion: 1, name: 'x' }), MediaTypes.dockerSchema1Signed));
  });
});
