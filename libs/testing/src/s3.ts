import S3rver from 's3rver';
import { removeDir, tempDir } from './processes';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  stop(): Promise<void>;
}

/** An s3rver (the S3 stand-in for MinIO on this machine) on a free port, with one bucket, in a temp dir. */
export async function startS3(bucket = 'registry'): Promise<TestS3> {
  const directory = tempDir('s3');
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    stop: async () => {
      await server.close();
      removeDir(directory);
    },
  };
}
