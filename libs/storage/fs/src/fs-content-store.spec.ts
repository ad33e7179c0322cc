import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeContentStoreContract } from '@ocireg/storage-testsuite';
import { FilesystemContentStore } from './fs-content-store';

describeContentStoreContract('filesystem', async () => {
  const rootDirectory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-store-'));
  return {
    store: new FilesystemContentStore({ rootDirectory: path.join(rootDirectory, 'store') }),
    teardown: () => rm(rootDirectory, { recursive: true, force: true }),
  };
});
