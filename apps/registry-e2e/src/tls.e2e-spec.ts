import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RunMode, TestPki, TestRegistry, createPki, makeImage, removeDir, startRegistry, tempDir, writeOciLayout } from '@ocireg/testing';

const run = promisify(execFile);

describe.each<RunMode>(['embedded', 'distributed'])('TLS termination in the gateway (%s)', (mode) => {
  const dir = tempDir('tls');
  let pki: TestPki;
  let registry: TestRegistry;
  let mutual: TestRegistry;

  beforeAll(async () => {
    pki = createPki(dir);
    const server = pki.issue('server', { ip: '127.0.0.1', dns: 'localhost' });
    const tlsEnv = { REGISTRY_HTTP_TLS_CERTIFICATE: server.cert, REGISTRY_HTTP_TLS_KEY: server.key };
    registry = await startRegistry(mode, { env: tlsEnv, ca: pki.caCert });
    mutual = await startRegistry(mode, { env: { ...tlsEnv, REGISTRY_HTTP_TLS_CLIENTCAS: pki.caCert }, ca: pki.caCert, clientCert: pki.issue('client', { clientAuth: true }) });
  }, 180_000);
  afterAll(async () => {
    await registry?.stop();
    await mutual?.stop();
    removeDir(dir);
  });

  it('serves HTTPS with HTTP/2 to a client that trusts the CA', async () => {
    const { stdout } = await run('curl', ['-s', '--http2', '--cacert', pki.caCert, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${registry.url}/v2/`]);
    expect(stdout).toBe('2 200');
    const { stdout: http1 } = await run('curl', ['-s', '--http1.1', '--cacert', pki.caCert, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${registry.url}/v2/`]);
    expect(http1).toBe('1.1 200');
  });

  it('lets skopeo push and pull with TLS verification on (no insecure setting)', async () => {
    const certDir = join(dir, 'certs');
    mkdirSync(certDir, { recursive: true });
    copyFileSync(pki.caCert, join(certDir, 'ca.crt'));
    const image = makeImage({ layers: 2 });
    const source = join(dir, 'layout');
    writeOciLayout(source, [image], { tag: 'v1' });
    await run('skopeo', ['--insecure-policy', 'copy', '--dest-cert-dir', certDir, `oci:${source}:v1`, `docker://${registry.host}/tls/app:v1`]);
    const { stdout } = await run('skopeo', ['inspect', '--cert-dir', certDir, '--raw', `docker://${registry.host}/tls/app:v1`]);
    expect(JSON.parse(stdout).config.digest).toBe(image.config.digest);
  }, 60_000);

  it('with client CAs, refuses a client without a certificate and serves one with a certificate', async () => {
    await expect(run('curl', ['-s', '--cacert', pki.caCert, `${mutual.url}/v2/`])).rejects.toThrow();
    const client = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    const { stdout } = await run('curl', ['-s', '--cacert', pki.caCert, '--cert', client.cert, '--key', client.key, '-o', '/dev/null', '-w', '%{http_code}', `${mutual.url}/v2/`]);
    expect(stdout).toBe('200');
  });
});
