// The policy webhook's serving certificate made the way deploy/policy-webhook.yaml's header
// tells a user to make it (openssl: an EC P-256 CA, a certificate for the Service's DNS name
// signed by it), and the kubernetes.io/tls Secret the Deployment mounts.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const WEBHOOK_DNS_NAME = 'balanced-policy-webhook.balanced-system.svc';

export interface WebhookCertificate {
  readonly caCert: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The Secret `balanced-policy-webhook-tls` in balanced-system holding tls.crt and tls.key. */
  readonly secret: Record<string, unknown>;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Runs the manifest's commands in a scratch folder (removed after). */
export function makeWebhookCertificate(): WebhookCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'webhook-cert-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...ec, '-days', '2', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=balanced-policy-webhook-ca'], dir);
    openssl(['req', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${WEBHOOK_DNS_NAME}`], dir);
    writeFileSync(join(dir, 'san.ext'), `subjectAltName=DNS:${WEBHOOK_DNS_NAME}\n`);
    openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'tls.crt'], dir);
    const cert = readFileSync(join(dir, 'tls.crt'));
    const key = readFileSync(join(dir, 'tls.key'));
    return {
      caCert: readFileSync(join(dir, 'ca.crt')),
      cert,
      key,
      secret: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: 'balanced-policy-webhook-tls', namespace: 'balanced-system' },
        data: { 'tls.crt': cert.toString('base64'), 'tls.key': key.toString('base64') },
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
