import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createNetns, deleteNetns, runChecked } from '@balanced/testkit';
import { RouteClient } from '../src/index.js';

// In the lab VM (Debian kernel: has the dummy module, which this host kernel lacks): what
// ipvs-controller does with VIPs — a dummy interface holding /32s.
let ns: string;
let route: RouteClient;
beforeAll(async () => {
  ns = await createNetns();
  route = RouteClient.open({ netns: `/run/netns/${ns}` });
});
afterAll(async () => {
  route?.close();
  if (ns) await deleteNetns(ns);
});

test('dummy interface with VIPs as /32, as iproute2 sees it', async () => {
  const link = await route.ensureLink({ name: 'balanced0', kind: 'dummy', up: true });
  expect(link).toMatchObject({ kind: 'dummy', up: true });
  for (const vip of ['10.96.0.10/32', '10.96.0.11/32', 'fd96::10/128']) await route.addAddress('balanced0', vip);
  await route.deleteAddress('balanced0', '10.96.0.11/32');
  const ours = (await route.listAddresses('balanced0')).filter((a) => !a.address.startsWith('fe80')).map((a) => `${a.address}/${a.prefixLength}`);
  expect(ours.sort()).toEqual(['10.96.0.10/32', 'fd96::10/128']);
  const shown = await runChecked('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'balanced0']);
  expect(shown).toContain('inet 10.96.0.10/32');
  expect(shown).toContain('inet6 fd96::10/128');
  expect(shown).not.toContain('10.96.0.11');
  expect(await runChecked('ip', ['-n', ns, '-d', 'link', 'show', 'balanced0'])).toContain('dummy');
});
