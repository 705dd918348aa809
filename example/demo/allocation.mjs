// Screen 1: the Service is created without an address; the vip-allocator gives it one
// from the VipPools.
import { NAMESPACE, SERVICE, service, vipPools } from './cluster.mjs';
import { heading, note } from './screens.mjs';
import { eventually } from './wait.mjs';

const inCidr = (ip, cidr) => {
  const [base, bits] = cidr.split('/');
  const n = (a) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
};

export async function allocateVip(server, exampleDir, port, checks) {
  const pools = vipPools(exampleDir);
  for (const pool of pools) server.store.put('vippools', pool);
  server.store.put('services', service(port));
  const svc = await eventually(
    'the allocator to assign an address',
    async () => server.store.get('services', SERVICE, NAMESPACE),
    (s) => (s?.status?.loadBalancer?.ingress ?? []).length > 0,
    60_000,
  );
  const vip = svc.status.loadBalancer.ingress[0].ip;
  const defaults = pools.find((p) => p.metadata.name === 'default');
  const v4 = defaults.spec.cidrs.find((c) => !c.includes(':'));
  heading('1/6', 'The VIP: a LoadBalancer Service gets its address from a VipPool');
  note(`VipPools (example/vippools.yaml): ${pools.map((p) => `${p.metadata.name} ${p.spec.cidrs.join(' ')}`).join('; ')}`);
  note(`Service ${NAMESPACE}/${SERVICE} (class balanced.dev/ipvs, ports ${port}/TCP ${port}/UDP) created with no address`);
  note(`vip-allocator wrote status.loadBalancer.ingress: ${vip}`);
  checks.check('the VIP comes from the default pool', inCidr(vip, v4), `${vip} in ${v4}`);
  return vip;
}
