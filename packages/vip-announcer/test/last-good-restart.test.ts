// Issue 13 item 3, the announcer's side: a restarted announcer (no memory of earlier plans) keeps
// announcing a live Service whose annotation turned invalid, from the copy of its last accepted
// annotations recorded in the cluster (the same rule as the ipvs-controller: buildKeepingLastGood).
import { expect, test } from '@jest/globals';
import { LAST_ACCEPTED_ANNOTATION, acceptedAnnotationsValue } from '@balanced/k8s';
import { cidrOwnership, parseCidr } from '@balanced/net';
import { planAnnouncements } from '../src/index.js';
import { service, slice } from './k8s-objects.js';

const ownsVip = cidrOwnership([parseCidr('10.96.100.0/24')]);

test('after a restart, a Service with a typo keeps its announcement and communities from the recorded copy', () => {
  const good = service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.dev/bgp-communities': '65000:1' } });
  const copy = acceptedAnnotationsValue(good) ?? '';
  const typo = service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.dev/bgp-communities': 'not-a-community', [LAST_ACCEPTED_ANNOTATION]: copy } });
  const slices = [slice({ service: 'web', endpoints: { '10.244.0.1': true } })];
  const plan = (services: typeof good[]) => planAnnouncements({ services, endpointSlices: slices, pools: [], ownsVip, defaultClass: false, controllerHealthy: true, lastGood: new Map() });

  const before = plan([good]).plan.announced;
  expect(before).toEqual([{ vip: '10.96.100.10', communities: [{ asn: 65000, value: 1 }], services: ['default/web'], pool: undefined }]);
  const restarted = plan([typo]);
  expect(restarted.plan.announced).toEqual(before);
  expect(restarted.lastGood.size).toBe(1);

  // No copy recorded: a restarted announcer has nothing to keep.
  const bare = service({ name: 'web', vips: ['10.96.100.10'], annotations: { 'balanced.dev/bgp-communities': 'not-a-community' } });
  expect(plan([bare]).plan.announced).toEqual([]);
  // No ready endpoint: a kept Service is withheld like any other.
  expect(planAnnouncements({ services: [typo], endpointSlices: [slice({ service: 'web', endpoints: { '10.244.0.1': false } })], pools: [], ownsVip, defaultClass: false, controllerHealthy: true, lastGood: new Map() }).plan.announced).toEqual([]);
});
