import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeContentStoreContract } from '@ocireg/storage-testsuite';
import { FilesystemContentStore } from './fs-content-store';

describeContentStoreContract('filesystem', async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'ocireg-fs-store-'));
  const rootDirectory = path.join(directory, 'store');
  return {
    store: new FilesystemContentStore({ rootDirectory }),
    teardown: () => rm(directory, { recursive: true, force: true }),
    // Every file under the root, the temporary and appending areas included.
    sweepAll: async () => {
      const entries = await readdir(rootDirectory, { recursive: true, withFileTypes: true });
      const files = entries.filter((entry) => !entry.isDirectory()).map((entry) => path.join(entry.parentPath, entry.name));
      for (const file of files) await rm(file, { force: true });
      return files.map((file) => path.relative(rootDirectory, file));
    },
  };
});
