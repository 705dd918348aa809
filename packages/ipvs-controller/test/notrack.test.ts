import { expect, test } from '@jest/globals';
import { renderNotrack } from '../src/index.js';

test('renders one transaction per family that refills only our chain', () => {
  const r = renderNotrack(['10.96.0.0/24', 'fd96::/64', '10.96.0.0/24', '192.0.2.7']);
  expect(r.ipv4).toBe(
    ['*raw', ':BALANCED-NOTRACK - [0:0]', '-F BALANCED-NOTRACK', '-A BALANCED-NOTRACK -d 10.96.0.0/24 -j CT --notrack', '-A BALANCED-NOTRACK -d 192.0.2.7/32 -j CT --notrack', 'COMMIT', ''].join('\n'),
  );
  expect(r.ipv6).toContain('-A BALANCED-NOTRACK -d fd96::/64 -j CT --notrack');
  expect(r.ipv6).not.toContain('10.96');
});

test('refuses a malformed CIDR', () => {
  expect(() => renderNotrack(['10.96.0.0/33'])).toThrow(/prefix length/);
  expect(() => renderNotrack(['nope'])).toThrow(/invalid address/);
});
