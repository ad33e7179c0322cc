import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  caKey: string;
  /** Issues a certificate signed by the CA; returns the paths of its PEM files. */
  issue(name: string, options?: { ip?: string; dns?: string; clientAuth?: boolean }): { cert: string; key: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A throw-away certificate authority in `dir` (openssl), for TLS and mutual-TLS tests. */
export function createPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', '/CN=ocireg test CA'], dir);
  return {
    dir,
    caCert,
    caKey,
    issue(name, options = {}) {
      const key = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const cert = join(dir, `${name}.crt`);
      const ext = join(dir, `${name}.ext`);
      const san = [options.ip ? `IP:${options.ip}` : '', options.dns ? `DNS:${options.dns}` : ''].filter(Boolean).join(',');
      writeFileSync(ext, [san ? `subjectAltName=${san}` : '', `extendedKeyUsage=${options.clientAuth ? 'clientAuth' : 'serverAuth'}`].filter(Boolean).join('\n'));
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', ext], dir);
      return { cert, key };
    },
  };
}
