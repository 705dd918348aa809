// The serving certificate, from a mounted Secret directory (tls.crt, tls.key). Kubernetes
// updates a Secret volume by swapping a symlink (..data), so the files change together but
// events arrive in bursts; a half-written pair (a hand-edited hostPath, a copy in progress)
// fails createSecureContext and the old context stays until the next event or poll.
// A good new pair is swapped in with server.setSecureContext: open connections keep theirs,
// new handshakes get the new certificate.

import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** notAfter, ms since the epoch. */
  readonly notAfter: number;
}

export interface CertificateWatchOptions {
  readonly dir: string;
  /** Re-read the files this often as well (a missed fs event, a network filesystem). Default 30 s; 0 = only on events. */
  readonly pollMs?: number;
  /** Wait this long after a file event before reading (the symlink swap's burst). Default 100 ms. */
  readonly settleMs?: number;
  readonly onLoad: (pair: KeyPair) => void;
  readonly onError: (err: Error) => void;
}

/** Read and check a pair; throws (with the file named) when it is missing, unparsable or mismatched. */
export function readKeyPair(dir: string): KeyPair {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const cert = readFileSync(certFile);
  const key = readFileSync(keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`${certFile} and ${keyFile} are not a usable pair (${err instanceof Error ? err.message : String(err)}): mount a Secret of type kubernetes.io/tls`, { cause: err });
  }
  const notAfter = Date.parse(new X509Certificate(cert).validTo);
  return { cert, key, notAfter };
}

export function secureContextOptions(pair: KeyPair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key };
}

/** Watches `dir` and calls onLoad with every new good pair (not the current one). */
export class CertificateWatch {
  private watcher: FSWatcher | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private settle: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private current: KeyPair,
    private readonly options: CertificateWatchOptions,
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.options.dir, () => this.schedule());
      this.watcher.on('error', (err) => this.options.onError(err));
    } catch (err) {
      this.options.onError(err instanceof Error ? err : new Error(String(err)));
    }
    const pollMs = this.options.pollMs ?? 30_000;
    if (pollMs > 0) this.poll = setInterval(() => this.check(), pollMs);
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    if (this.poll !== undefined) clearInterval(this.poll);
    if (this.settle !== undefined) clearTimeout(this.settle);
  }

  private schedule(): void {
    if (this.stopped || this.settle !== undefined) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      this.check();
    }, this.options.settleMs ?? 100);
  }

  /** Re-read the pair now (the poll and file events call this). */
  check(): void {
    if (this.stopped) return;
    let pair: KeyPair;
    try {
      pair = readKeyPair(this.options.dir);
    } catch (err) {
      this.options.onError(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (pair.cert.equals(this.current.cert) && pair.key.equals(this.current.key)) return;
    this.current = pair;
    this.options.onLoad(pair);
  }
}
