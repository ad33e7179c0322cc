import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Image, RunMode, TestRegistry, makeImage, makeIndex, removeDir, sha256, startRegistry, tempDir, writeOciLayout } from '@ocireg/testing';

const run = promisify(execFile);

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Every blob file of an OCI layout, checked against its name: the bytes are exactly what was addressed. */
function layoutDigests(dir: string): string[] {
  const blobsDir = join(dir, 'blobs', 'sha256');
  return readdirSync(blobsDir)
    .map((file) => {
      expect(sha256(readFileSync(join(blobsDir, file)))).toBe(`sha256:${file}`);
      return `sha256:${file}`;
    })
    .sort();
}

function imageDigests(images: Image[]): string[] {
  return images.flatMap((i) => [i.config.digest, i.manifest.digest, ...i.layers.map((l) => l.digest)]);
}

describe.each<RunMode>(['embedded', 'distributed'])('skopeo against the registry (%s)', (mode) => {
  let registry: TestRegistry;
  const dirs: string[] = [];
  const dir = (label: string) => {
    const path = tempDir(label);
    dirs.push(path);
    return path;
  };

  beforeAll(async () => {
    registry = await startRegistry(mode, { env: { REGISTRY_STORAGE_DELETE_ENABLED: 'true' } });
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    dirs.forEach(removeDir);
  });

  it('copies an OCI image with several layers to the registry and back, every digest intact', async () => {
    const image = makeImage({ layers: 4, layerSize: 300_000 });
    const source = dir('src');
    writeOciLayout(source, [image], { tag: 'v1' });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${source}:v1`, `docker://${registry.host}/skopeo/image:v1`);

    const inspect = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/skopeo/image:v1`));
    expect(sha256(Buffer.from(JSON.stringify(inspect)))).toBeDefined();
    const target = dir('dst');
    await skopeo('copy', '--src-tls-verify=false', `docker://${registry.host}/skopeo/image:v1`, `oci:${target}:v1`);
    expect(layoutDigests(target)).toEqual(imageDigests([image]).sort());
  }, 120_000);

  it('copies a two-platform image index with --all and pulls both platforms back', async () => {
    const images = [makeImage({ architecture: 'amd64' }), makeImage({ architecture: 'arm64', layers: 2 })];
    const index = makeIndex(images);
    const source = dir('src');
    writeOciLayout(source, images, { index, tag: 'multi' });
    await skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${source}:multi`, `docker://${registry.host}/skopeo/multi:latest`);
    const raw = await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/skopeo/multi:latest`);
    expect(sha256(Buffer.from(raw))).toBe(index.digest);

    const target = dir('dst');
    await skopeo('copy', '--all', '--src-tls-verify=false', `docker://${registry.host}/skopeo/multi:latest`, `oci:${target}:multi`);
    expect(layoutDigests(target)).toEqual([...imageDigests(images), index.digest].sort());
  }, 120_000);

  it('pushes as Docker schema2 with --format v2s2 and pulls it back', async () => {
    const image = makeImage({ layers: 2 });
    const source = dir('src');
    writeOciLayout(source, [image], { tag: 'v1' });
    await skopeo('copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${source}:v1`, `docker://${registry.host}/skopeo/docker:v1`);
    const raw = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/skopeo/docker:v1`));
    expect(raw.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const response = await fetch(`${registry.url}/v2/skopeo/docker/manifests/v1`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(response.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');

    const target = dir('dst');
    await skopeo('copy', '--src-tls-verify=false', `docker://${registry.host}/skopeo/docker:v1`, `dir:${target}`);
    for (const layer of image.layers) {
      expect(sha256(readFileSync(join(target, layer.digest.slice('sha256:'.length))))).toBe(layer.digest);
    }
    const tags = JSON.parse(await skopeo('list-tags', '--tls-verify=false', `docker://${registry.host}/skopeo/docker`));
    expect(tags.Tags).toEqual(['v1']);
  }, 120_000);

  it('copies between repositories of the registry by mounting, lists tags, and deletes', async () => {
    const image = makeImage({ layers: 2, layerSize: 200_000 });
    const source = dir('src');
    writeOciLayout(source, [image], { tag: 'v1' });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${source}:v1`, `docker://${registry.host}/skopeo/origin:v1`);
    await skopeo('copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${registry.host}/skopeo/origin:v1`, `docker://${registry.host}/skopeo/copy:v1`);
    await skopeo('copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${registry.host}/skopeo/copy:v1`, `docker://${registry.host}/skopeo/copy:v2`);
    for (const layer of image.layers) {
      const head = await fetch(`${registry.url}/v2/skopeo/copy/blobs/${layer.digest}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
    }
    const tags = JSON.parse(await skopeo('list-tags', '--tls-verify=false', `docker://${registry.host}/skopeo/copy`));
    expect(tags.Tags).toEqual(['v1', 'v2']);

    // skopeo deletes by digest: the manifest goes, with every tag that pointed at it.
    await skopeo('delete', '--tls-verify=false', `docker://${registry.host}/skopeo/copy:v1`);
    const after = await fetch(`${registry.url}/v2/skopeo/copy/tags/list`);
    expect(await after.json()).toEqual({ name: 'skopeo/copy', tags: [] });
    expect((await fetch(`${registry.url}/v2/skopeo/copy/manifests/${image.manifest.digest}`)).status).toBe(404);
    expect((await fetch(`${registry.url}/v2/skopeo/origin/manifests/v1`)).status).toBe(200);
  }, 120_000);
});
