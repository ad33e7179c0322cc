import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import S3rver from 's3rver';
import { type ContentStoreFixture, describeContentStoreContract } from '@ocireg/storage-testsuite';
import { S3ContentStore } from './s3-content-store';

const credentials = { accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' };
let server: S3rver | undefined;
let directory: string | undefined;
let port = 0;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'ocireg-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  ({ port } = await server.run());
});

afterAll(async () => {
  await server?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

function fixture(bucket: string, options: { rootDirectory?: string; partSize?: number }): () => Promise<ContentStoreFixture> {
  return async () => {
    const connection = { endPoint: '127.0.0.1', port, useSSL: false, ...credentials };
    const client = new Client({ ...connection, pathStyle: true });
    return {
      store: new S3ContentStore({ ...connection, bucket, ...options }),
      teardown: async () => undefined,
      // Everything in the bucket, the hidden tails included.
      sweepAll: async () => {
        const { objects } = await client.listObjectsV2Query(bucket, '', '', '', 1000, '');
        const names = objects.flatMap((item) => (item.name === undefined ? [] : [item.name]));
        for (const name of names) await client.removeObject(bucket, name);
        return names;
      },
    };
  };
}

describeContentStoreContract('s3 (s3rver, 5 MiB parts, under a root directory)', fixture('contract-rooted', {
  rootDirectory: 'registry',
  partSize: 5 * 1024 * 1024,
}));

describeContentStoreContract('s3 (s3rver, default 8 MiB parts, bucket root)', fixture('contract-bare', {}));

describe('purgeUnfinished on s3rver, which lacks ListMultipartUploads', () => {
  it('removes the tails of an abandoned append and treats the unlistable multipart upload as nothing to do', async () => {
    const bucket = 'purge-unlisted';
    const connection = { endPoint: '127.0.0.1', port, useSSL: false, ...credentials };
    const store = new S3ContentStore({ ...connection, bucket, partSize: 5 * 1024 * 1024 });
    await store.init();
    const client = new Client({ ...connection, pathStyle: true });
    await expect(client.listIncompleteUploadsQuery(bucket, '', '', '', '')).rejects.toMatchObject({ code: 'NotImplemented' });
    // One full part (a multipart upload s3rver cannot list) and a 1 MiB tail.
    const key = 'v1/abandoned';
    await store.append(key, await store.startAppend(key), Readable.from([Buffer.alloc(6 * 1024 * 1024, 7)]));
    await expect(store.purgeUnfinished(new Date(Date.now() + 10_000))).resolves.toBe(1);
    const { objects } = await client.listObjectsV2Query(bucket, '', '', '', 1000, '');
    expect(objects).toEqual([]);
  });
});
