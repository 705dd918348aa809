import { describe, expect, test } from '@jest/globals';

import { parseAddress } from '../src/address.js';
import { matchesSelector, parseLabelSelector } from '../src/label-selector.js';
import { parseVipPool, poolAllows, poolCapacity } from '../src/pool.js';
import { poolObject } from './fixtures.js';

describe('parseVipPool', () => {
  test('a full pool; defaults autoAssign true, avoidBuggyIPs false; an empty selector is no selector', () => {
    const parsed = parseVipPool(poolObject('edge', { cidrs: ['10.96.100.0/24', 'fd96::/120'], bgpCommunities: ['65000:100'], serviceSelector: {} }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.pool).toMatchObject({ name: 'edge', uid: 'pool-edge', autoAssign: true, avoidBuggyIPs: false, serviceSelector: undefined, bgpCommunities: ['65000:100'] });
    expect(poolCapacity(parsed.pool)).toBe(512n);
    expect(poolCapacity(parsed.pool, 6)).toBe(256n);
  });

  test('every problem is reported with its field', () => {
    const parsed = parseVipPool(
      poolObject('bad', {
        cidrs: ['10.0.0.1/24', 'x'],
        autoAssign: 'yes' as unknown as boolean,
        serviceSelector: { matchExpressions: [{ key: 'tier', operator: 'Maybe' }] },
        bgpCommunities: ['65000:70000'],
      }),
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems.map((p) => p.field)).toEqual([
      'spec.cidrs[0]',
      'spec.cidrs[1]',
      'spec.autoAssign',
      'spec.serviceSelector.matchExpressions[0].operator',
      'spec.bgpCommunities[0]',
    ]);
    expect(parseVipPool({ metadata: { name: 'empty' }, spec: {} })).toMatchObject({ ok: false, problems: [{ field: 'spec.cidrs' }] });
    expect(parseVipPool(null)).toMatchObject({ ok: false });
  });

  test('avoidBuggyIPs: .0 and .255 are inside the pool but not handed out', () => {
    const parsed = parseVipPool(poolObject('p', { cidrs: ['10.0.0.0/23'], avoidBuggyIPs: true }));
    if (!parsed.ok) throw new Error('invalid');
    expect(poolAllows(parsed.pool, parseAddress('10.0.0.255')!)).toBe(false);
    expect(poolAllows(parsed.pool, parseAddress('10.0.1.0')!)).toBe(false);
    expect(poolAllows(parsed.pool, parseAddress('10.0.1.1')!)).toBe(true);
    expect(poolCapacity(parsed.pool)).toBe(508n);
  });
});

describe('label selectors', () => {
  const sel = (value: unknown) => {
    const p = parseLabelSelector(value, 'sel');
    if (!p.ok) throw new Error(JSON.stringify(p.problems));
    return p.selector;
  };
  test.each([
    [{ matchLabels: { tier: 'edge' } }, { tier: 'edge', x: 'y' }, true],
    [{ matchLabels: { tier: 'edge' } }, { tier: 'core' }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, { tier: 'b' }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, { tier: 'a' }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, { tier: '' }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, { tier: '' }, false],
    [{ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }] }, { a: '1' }, false],
    [{}, { anything: 'x' }, true],
  ])('%j matches %j: %s', (selector, labels, expected) => {
    expect(matchesSelector(sel(selector), labels)).toBe(expected);
  });

  test('In needs values, Exists takes none', () => {
    expect(parseLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 's')).toMatchObject({ ok: false, problems: [{ field: 's.matchExpressions[0].values' }] });
    expect(parseLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 's')).toMatchObject({ ok: false });
    expect(parseLabelSelector('x', 's')).toMatchObject({ ok: false });
  });
});
