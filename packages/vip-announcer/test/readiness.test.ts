import { describe, expect, test } from '@jest/globals';
import { describeReadiness, type ReadinessInput } from '../src/readiness.js';

const base: ReadinessInput = {
  synced: true,
  poolsError: undefined,
  controllerHealthy: true,
  controllerDetail: 'http://127.0.0.1:9742/readyz: HTTP 200 ok',
  plan: {
    announced: [{ vip: '10.96.100.10', communities: [], services: ['default/web'], pool: undefined }],
    withheld: [{ vip: '10.96.100.20', reason: 'NoReadyEndpoints', services: ['default/idle'] }],
    problems: [],
  },
  birdCurrent: true,
  birdError: undefined,
  outputFile: '/run/balanced/bird/balanced-vips.conf',
  sessions: ['balanced_peer_tor'],
};

describe('describeReadiness', () => {
  test('ready: says what is announced and withheld', () => {
    expect(describeReadiness(base)).toEqual({
      ok: true,
      detail:
        'informers synced: true; ipvs-controller ready: true (http://127.0.0.1:9742/readyz: HTTP 200 ok); announced: 10.96.100.10; ' +
        'withheld: 10.96.100.20 (NoReadyEndpoints); BIRD: runs /run/balanced/bird/balanced-vips.conf (sessions balanced_peer_tor)',
    });
  });

  test('an unhealthy controller is not a reason to be unready (withdrawing is the job)', () => {
    expect(describeReadiness({ ...base, controllerHealthy: false }).ok).toBe(true);
  });

  test.each([
    ['informers not synced, VipPools failing', { synced: false, poolsError: 'HTTP 404: Not Found' }, 'informers synced: false (VipPools: HTTP 404: Not Found)'],
    ['BIRD failed', { birdCurrent: false, birdError: new Error('BIRD control socket /run/bird/bird.ctl: connect ENOENT') }, 'BIRD: error: BIRD control socket'],
    ['BIRD not configured yet', { birdCurrent: false, plan: undefined }, 'announced: nothing yet'],
  ] as const)('not ready: %s', (_what, change, text) => {
    const r = describeReadiness({ ...base, ...change });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain(text);
  });
});
