import { expect, it } from '@jest/globals';
import * as net from '@balanced/net';
import { AF_INET, AF_INET6, familyNumber, formatIp, parseIp, parsePrefix } from '../src/index.js';

it('familyNumber maps to AF_INET / AF_INET6', () => {
  expect([familyNumber('inet'), familyNumber('inet6')]).toEqual([AF_INET, AF_INET6]);
  expect([AF_INET, AF_INET6]).toEqual([2, 10]);
});

it('address text is @balanced/net (one implementation), re-exported under the old names', () => {
  expect(parseIp).toBe(net.parseIp);
  expect(formatIp).toBe(net.formatIp);
  expect(parsePrefix).toBe(net.parseAddressPrefix);
});
