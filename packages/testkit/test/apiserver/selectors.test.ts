// Label and field selectors: the parser on its own, then on list through the real client.

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';

import { TestApiServer, matchesLabels, parseLabelSelector } from '../../src/apiserver/index.js';
import { failure } from './support.js';

describe('label selector semantics', () => {
  const labels = { app: 'web', tier: 'edge', weight: '5' };
  test.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app in (db, web)', true],
    ['app notin (db,web)', false],
    ['missing notin (a)', true],
    ['missing in (a)', false],
    ['app=web,tier in (edge,core),!canary', true],
    ['app=web,tier=core', false],
    ['weight>4', true],
    ['weight<4', false],
    ['', true],
  ])('%s → %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  test('a malformed selector is rejected', () => {
    expect(() => parseLabelSelector('app=web,,x')).toThrow(/empty term/);
    expect(() => parseLabelSelector('a b=c')).toThrow(/invalid label key/);
  });
});

describe('selectors on list', () => {
  let server: TestApiServer;
  let core: CoreV1Api;
  beforeAll(async () => {
    server = await TestApiServer.start();
    core = server.kubeConfig().makeApiClient(CoreV1Api);
    const pod = (name: string, app: string, nodeName?: string) => ({
      metadata: { name, labels: { app } },
      spec: { containers: [{ name: 'c', image: 'x' }], ...(nodeName === undefined ? {} : { nodeName }) },
    });
    await core.createNamespacedPod({ namespace: 'default', body: pod('a1', 'a', 'node-1') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('a2', 'a', 'node-2') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('b1', 'b') });
    await core.createNamespacedPod({ namespace: 'kube-system', body: pod('k1', 'a', 'node-1') });
  });
  afterAll(async () => {
    await server.stop();
  });

  const names = (list: { items: Array<{ metadata?: { name?: string } }> }): Array<string | undefined> =>
    list.items.map((p) => p.metadata?.name);

  test('label selectors', async () => {
    expect(names(await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=a' }))).toEqual(['a1', 'a2']);
    expect(names(await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app notin (a)' }))).toEqual(['b1']);
    expect(names(await core.listPodForAllNamespaces({ labelSelector: 'app in (a)' }))).toEqual(['a1', 'a2', 'k1']);
  });

  test('field selectors: metadata.name, metadata.namespace, spec.nodeName', async () => {
    expect(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' }))).toEqual(['a1', 'k1']);
    expect(names(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=' }))).toEqual(['b1']);
    expect(
      names(await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=default,metadata.name!=a1', labelSelector: 'app' })),
    ).toEqual(['a2', 'b1']);
  });

  test('an unsupported field label is 400 BadRequest', async () => {
    const { code, status } = await failure(core.listNamespacedService({ namespace: 'default', fieldSelector: 'spec.nodeName=x' }));
    expect(code).toBe(400);
    expect(status).toMatchObject({ reason: 'BadRequest', message: 'field label not supported: spec.nodeName' });
  });

  test('limit and continue page through a list', async () => {
    const first = await core.listPodForAllNamespaces({ limit: 3 });
    expect(names(first)).toEqual(['a1', 'a2', 'b1']);
    expect(first.metadata?._continue).toBeDefined();
    const rest = await core.listPodForAllNamespaces({ limit: 3, _continue: first.metadata?._continue });
    expect(names(rest)).toEqual(['k1']);
    expect(rest.metadata?._continue).toBeUndefined();
  });
});
