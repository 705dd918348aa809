import { describe, expect, test } from '@jest/globals';

import { defaultingPatch, parsePolicy } from '../src/index.js';
import { jsonPatch } from '@balanced/testkit';
import { bp, lrp } from '@balanced/testkit';

describe('defaultingPatch', () => {
  test('adds protocol TCP, redirectMode podEndpoint and enableOutCluster false where absent', () => {
    const object = bp('x', {
      frontend: { addressMatcher: { ip: '10.0.0.1', toPorts: [{ port: 80 }, { port: 53, protocol: 'UDP' }] } },
      backend: { serviceEndpoint: { endpointSelector: { matchLabels: { a: 'b' } }, toPorts: [{ port: 8080 }] } },
    });
    expect(defaultingPatch(object)).toEqual([
      { op: 'add', path: '/spec/frontend/addressMatcher/toPorts/0/protocol', value: 'TCP' },
      { op: 'add', path: '/spec/backend/serviceEndpoint/toPorts/0/protocol', value: 'TCP' },
      { op: 'add', path: '/spec/backend/serviceEndpoint/redirectMode', value: 'podEndpoint' },
      { op: 'add', path: '/spec/config', value: { enableOutCluster: false } },
    ]);
  });

  test('applied, the object parses to the same policy, and a second patch is empty', () => {
    const object = lrp('x', { config: {} });
    const patched = jsonPatch(object, defaultingPatch(object)) as Record<string, unknown>;
    expect(defaultingPatch(patched)).toEqual([]);
    const before = parsePolicy(object);
    const after = parsePolicy(patched);
    expect(after).toEqual(before);
    expect(patched).toMatchObject({ spec: { config: { enableOutCluster: false } } });
  });

  test('touches nothing that is not a policy', () => {
    expect(defaultingPatch({ kind: 'Service', spec: {} })).toEqual([]);
    expect(defaultingPatch(null)).toEqual([]);
    expect(defaultingPatch({ kind: 'LocalRedirectPolicy', spec: 'x' })).toEqual([]);
  });
});
