// The cluster cache's LIST request: pure parts, and one real HTTPS exchange against a loopback
// server whose certificate a test CA signed (the kubeconfig names that CA and a bearer token),
// so the path a real cluster takes (TLS agent and auth headers from client-node) is exercised.

import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createTestCa, opensslAvailable, type TestCa } from '@balanced/testkit';
import { failureMessage, ListRequestError, listPage, listUrl, plainHeaders } from '../src/list-request.js';

describe('listUrl', () => {
  it('joins server and path and leaves out empty values', () => {
    const url = listUrl('https://api.example:6443/', '/api/v1/pods', { fieldSelector: 'spec.nodeName=n1', labelSelector: '', limit: 500, continue: undefined });
    expect(url.toString()).toBe('https://api.example:6443/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&limit=500');
  });
  it('keeps a server path prefix (API servers behind a proxy path)', () => {
    expect(listUrl('https://proxy/k8s', '/api/v1/nodes', { continue: 'a b' }).toString()).toBe('https://proxy/k8s/api/v1/nodes?continue=a+b');
  });
});

describe('failureMessage', () => {
  it('is the Status message when the body is a Status', () => {
    expect(failureMessage(403, JSON.stringify({ kind: 'Status', code: 403, message: 'pods is forbidden' }))).toBe('pods is forbidden');
  });
  it('is the body (bounded) or the status otherwise', () => {
    expect(failureMessage(502, 'bad gateway\n')).toBe('bad gateway');
    expect(failureMessage(500, '')).toBe('HTTP 500');
    expect(failureMessage(500, 'x'.repeat(500))).toHaveLength(200);
  });
});

describe('plainHeaders', () => {
  it('reads a Headers object, pairs and a record alike (lower-case names)', () => {
    const h = new Headers();
    h.set('Authorization', 'Bearer t');
    expect(plainHeaders(h)).toEqual({ authorization: 'Bearer t' });
    expect(plainHeaders([['Authorization', 'Bearer t']])).toEqual({ authorization: 'Bearer t' });
    expect(plainHeaders({ Authorization: 'Bearer t' })).toEqual({ authorization: 'Bearer t' });
    expect(plainHeaders(undefined)).toEqual({});
  });
});

describe('listPage over HTTPS with a kubeconfig CA and token', () => {
  let ca: TestCa;
  let server: Server;
  let url: string;
  const seen: { path: string; auth: string | undefined }[] = [];
  let respond: (path: string) => { status: number; body: string } = () => ({ status: 200, body: '{}' });

  beforeAll(async () => {
    if (!opensslAvailable()) throw new Error('openssl is needed to make the test CA (apt-get install openssl)');
    ca = createTestCa();
    const pair = ca.issue('apiserver');
    server = createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      const { status, body } = respond(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    ca.cleanup();
  });

  const kubeconfig = (caData: Buffer): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: url, caData: caData.toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'u', token: 'sekret' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  };

  it('sends the token, verifies the server against the CA and returns the list as plain JSON', async () => {
    respond = () => ({ status: 200, body: JSON.stringify({ kind: 'ServiceList', metadata: { resourceVersion: '7', continue: 'next' }, items: [{ metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:00Z' } }] }) });
    seen.length = 0;
    const list = await listPage(kubeconfig(ca.caCert), '/api/v1/services', { limit: 1 });
    expect(seen).toEqual([{ path: '/api/v1/services?limit=1', auth: 'Bearer sekret' }]);
    expect(list.metadata).toEqual({ resourceVersion: '7', continue: 'next' });
    // plain JSON, as watch events are: the timestamp stays a string
    expect(list.items[0]?.metadata?.creationTimestamp).toBe('2026-01-01T00:00:00Z');
  });

  it('an empty list without items has items []', async () => {
    respond = () => ({ status: 200, body: JSON.stringify({ kind: 'NodeList', metadata: { resourceVersion: '1' } }) });
    expect((await listPage(kubeconfig(ca.caCert), '/api/v1/nodes', {})).items).toEqual([]);
  });

  it('a refused list is a ListRequestError with the status code and the Status message', async () => {
    respond = () => ({ status: 403, body: JSON.stringify({ kind: 'Status', code: 403, message: 'services is forbidden' }) });
    const err = await listPage(kubeconfig(ca.caCert), '/api/v1/services', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListRequestError);
    expect(err).toMatchObject({ statusCode: 403, message: 'services is forbidden' });
  });

  it('a server certificate the kubeconfig CA did not sign is refused', async () => {
    const other = createTestCa();
    try {
      seen.length = 0;
      await expect(listPage(kubeconfig(other.caCert), '/api/v1/services', {})).rejects.toThrow(/certificate/i);
      expect(seen).toEqual([]);
    } finally {
      other.cleanup();
    }
  });
});
