// BalanceD's ip-pool annotation may name a CIDR: the allocator assigns from the VipPool that
// contains it (resolvePoolReference in @balanced/k8s), and an empty value means the default pool.
import { describe, expect, test } from '@jest/globals';

import { allocate } from '../src/allocate.js';
import { input, pool } from './fixtures.js';

const HOME = pool('home-network', { cidrs: ['192.168.1.0/24'], autoAssign: false });
const DEFAULT = pool('default', { cidrs: ['10.0.0.0/30'] });
const created = '2025-01-01T00:00:00Z';

describe("BalanceD's balanced.demonware.net/ip-pool", () => {
  test('a CIDR assigns from the pool containing it; a label from the pool of that name; empty from the default pool', () => {
    const plan = allocate({
      pools: [DEFAULT, HOME],
      services: [
        input('by-cidr', { created, annotations: { 'balanced.demonware.net/ip-pool': '192.168.1.0/24' } }),
        input('by-name', { created, annotations: { 'balanced.demonware.net/ip-pool': 'home-network' } }),
        input('empty', { created, annotations: { 'balanced.demonware.net/ip-pool': '' } }),
      ],
    });
    const assigned = Object.fromEntries([...plan.assignments].map(([k, v]) => [k, v.pool]));
    expect(assigned).toEqual({ 'default/by-cidr': 'home-network', 'default/by-name': 'home-network', 'default/empty': 'default' });
  });

  test('a CIDR no pool contains fails with PoolNotFound, naming it', () => {
    const plan = allocate({ pools: [DEFAULT, HOME], services: [input('lost', { created, annotations: { 'balanced.demonware.net/ip-pool': '172.16.0.0/24' } })] });
    expect(plan.assignments.size).toBe(0);
    expect(plan.failures.map((f) => [f.reason, f.message.includes('172.16.0.0/24')])).toEqual([['PoolNotFound', true]]);
  });
});
