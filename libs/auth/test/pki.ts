/**
 * Test support only (not part of the lib, not built): keys from node:crypto and X.509 certificates from
 * the openssl command line, in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { KeyObject, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeyKind = 'ec256' | 'ec384' | 'rsa' | 'ed25519';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

export function keyPair(kind: KeyKind = 'ec256'): KeyPair {
  const { privateKey, publicKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : kind === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: kind === 'ec384' ? 'P-384' : 'P-256' });
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
`;

export interface Issued {
  name: string;
  key: KeyPair;
  pem: string;
}

export interface CertOptions {
  /** Is a CA (may sign certificates). Default false. */
  ca?: boolean;
  days?: number;
  key?: KeyPair;
}

/** A scratch PKI; call `dispose()` when done. */
export class Pki {
  readonly dir = mkdtempSync(join(tmpdir(), 'ocireg-auth-pki-'));
  private readonly config = join(this.dir, 'openssl.cnf');

  constructor() {
    writeFileSync(this.config, CONFIG);
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private writeKey(name: string, key: KeyPair): string {
    const path = join(this.dir, `${name}.key`);
    writeFileSync(path, key.privatePem);
    return path;
  }

  /** A self-signed certificate (a root when `ca`). */
  selfSigned(name: string, options: CertOptions = {}): Issued {
    const key = options.key ?? keyPair();
    const keyPath = this.writeKey(name, key);
    const out = join(this.dir, `${name}.pem`);
    this.openssl([
      'req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-days', String(options.days ?? 3650),
      '-sha256', '-config', this.config, '-extensions', options.ca ? 'ca' : 'leaf', '-out', out,
    ]);
    return { name, key, pem: readFileSync(out, 'utf8') };
  }

  /** A certificate for a new (or given) key, signed by `issuer`. */
  signed(name: string, issuer: Issued, options: CertOptions = {}): Issued {
    const key = options.key ?? keyPair();
    const keyPath = this.writeKey(name, key);
    const csr = join(this.dir, `${name}.csr`);
    const out = join(this.dir, `${name}.pem`);
    this.openssl(['req', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-config', this.config, '-out', csr]);
    this.openssl([
      'x509', '-req', '-in', csr, '-CA', join(this.dir, `${issuer.name}.pem`), '-CAkey', join(this.dir, `${issuer.name}.key`),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(options.days ?? 365), '-sha256',
      '-extfile', this.config, '-extensions', options.ca ? 'ca' : 'leaf', '-out', out,
    ]);
    return { name, key, pem: readFileSync(out, 'utf8') };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
