// Shared by the tests of the policy webhook (its serving Secret) and of the cluster cache (an HTTPS API server).
// A test CA and serving certificates made with the openssl CLI (node cannot create X.509
// certificates), in a directory laid out as kubelet lays out a Secret volume: tls.crt and
// tls.key are symlinks through ..data, which points at a timestamped directory, and an
// update swaps ..data in one rename.

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  readonly dir: string;
  readonly caCert: Buffer;
  /** Issue a serving certificate for 127.0.0.1/localhost; returns PEM cert and key. */
  issue(commonName: string): { cert: Buffer; key: Buffer; fingerprint: string };
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function createTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'balanced-test-ca-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=balanced test CA', '-days', '2'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  let n = 0;
  return {
    dir,
    caCert: readFileSync(join(dir, 'ca.crt')),
    issue(commonName) {
      n++;
      const key = `s${n}.key`;
      const csr = `s${n}.csr`;
      const crt = `s${n}.crt`;
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${commonName}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', crt, '-days', '1', '-extfile', 'san.ext'], dir);
      const cert = readFileSync(join(dir, crt));
      return { cert, key: readFileSync(join(dir, key)), fingerprint: new X509Certificate(cert).fingerprint256 };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A Secret-volume-like directory. */
export class SecretDir {
  readonly dir: string;
  private version = 0;

  constructor(pair: { cert: Buffer; key: Buffer }) {
    this.dir = mkdtempSync(join(tmpdir(), 'balanced-test-secret-'));
    this.write(pair);
    symlinkSync('..data/tls.crt', join(this.dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(this.dir, 'tls.key'));
  }

  /** Atomically switch both files to this pair (as kubelet does: new dir, then rename ..data). */
  write(pair: { cert: Buffer; key: Buffer }): void {
    this.version++;
    const versioned = `..v${this.version}`;
    mkdirSync(join(this.dir, versioned));
    writeFileSync(join(this.dir, versioned, 'tls.crt'), pair.cert);
    writeFileSync(join(this.dir, versioned, 'tls.key'), pair.key);
    symlinkSync(versioned, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
