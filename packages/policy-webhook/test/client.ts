// Talking to the webhook as the API server does: HTTPS verified against the test CA, POST an
// AdmissionReview v1, read the AdmissionReview back.

import { X509Certificate, randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsReply {
  readonly status: number;
  readonly body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint: string;
}

export function httpsRequest(url: string, ca: Buffer, options: { method?: string; body?: string; contentType?: string } = {}): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', ca, agent: false, headers: options.body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {} }, (res) => {
      const socket = res.socket as TLSSocket;
      const raw = socket.getPeerCertificate().raw;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), fingerprint: new X509Certificate(raw).fingerprint256 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export type Json = Record<string, unknown>;

export function reviewFor(object: Json, operation: 'CREATE' | 'UPDATE' | 'DELETE' = 'CREATE', oldObject?: Json): Json {
  const kind = typeof object['kind'] === 'string' ? object['kind'] : 'LocalRedirectPolicy';
  const metadata = object['metadata'] as { name?: string } | undefined;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind: { group: 'balanced.dev', version: 'v1alpha1', kind },
      resource: { group: 'balanced.dev', version: 'v1alpha1', resource: kind === 'BalancingPolicy' ? 'balancingpolicies' : 'localredirectpolicies' },
      requestKind: { group: 'balanced.dev', version: 'v1alpha1', kind },
      requestResource: { group: 'balanced.dev', version: 'v1alpha1', resource: kind === 'BalancingPolicy' ? 'balancingpolicies' : 'localredirectpolicies' },
      name: metadata?.name ?? '',
      operation,
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: operation === 'DELETE' ? null : object,
      oldObject: oldObject ?? null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: operation === 'UPDATE' ? 'UpdateOptions' : 'CreateOptions' },
    },
  };
}

export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  patchType?: string;
  patch?: string;
}

export async function admit(url: string, ca: Buffer, path: '/validate' | '/mutate', review: Json): Promise<ReviewResponse> {
  const reply = await httpsRequest(`${url}${path}`, ca, { method: 'POST', body: JSON.stringify(review) });
  if (reply.status !== 200) throw new Error(`${path}: HTTP ${reply.status}: ${reply.body}`);
  const body = JSON.parse(reply.body) as { apiVersion: string; kind: string; response: ReviewResponse };
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') throw new Error(`not an AdmissionReview: ${reply.body}`);
  const uid = (review['request'] as { uid: string }).uid;
  if (body.response.uid !== uid) throw new Error(`response uid ${body.response.uid} is not the request's ${uid}`);
  return body.response;
}
