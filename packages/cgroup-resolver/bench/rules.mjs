// Renders N Services × B backends as kube-proxy writes them (pure: strings only), plus the
// resolver's DesiredState for the same Services. Service i (0-based) has ClusterIP
// 10.96.<i>>8>.<i&255> port 80/TCP; the target is the LAST one (i = N-1), so a linear
// rule walk pays for every Service in front of it. Backends of the target are the real
// local addresses; every other Service's backends are fake (never connected to).
import { createHash } from 'node:crypto';

export const SERVICE_PORT = 80;
export const BACKEND_PORT = 8080;

export function serviceVip(i) {
  if (i < 0 || i > 0xffff) throw new Error(`service index ${i} out of range`);
  return `10.96.${i >> 8}.${i & 255}`;
}

/** Fake backend b of service i: 10.(128 + i>>12).((i>>4)&255).((i&15)*16+b) — never local. */
export function fakeBackend(i, b) {
  return `10.${128 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) * 16 + b}`;
}

/** Backend addresses of service i (the target gets `targetBackends`). */
export function backendsOf(i, n, backends, targetBackends) {
  if (i === n - 1) return targetBackends.slice(0, backends);
  return Array.from({ length: backends }, (_, b) => fakeBackend(i, b));
}

const base32 = (buf) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0, out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) { out += alphabet[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  return out;
};
/** kube-proxy's chain-name hash: base32(sha256(text))[:16]. */
export const portProtoHash = (text) => base32(createHash('sha256').update(text).digest()).slice(0, 16);

const svcName = (i) => `bench/svc${i}:http`;

/**
 * iptables-restore input for the nat table (kube-proxy iptables mode, ClusterIP only, no
 * cluster CIDR, so no masquerade-all rule): OUTPUT → KUBE-SERVICES → KUBE-SVC-… →
 * KUBE-SEP-… with `-m statistic --mode random --probability 1/(n-k)`, DNAT.
 */
export function renderIptables(n, backends, targetBackends) {
  const chains = [':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-NODEPORTS - [0:0]'];
  const rules = [
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const svcRules = [];
  for (let i = 0; i < n; i++) {
    const name = svcName(i);
    const vip = serviceVip(i);
    const svc = `KUBE-SVC-${portProtoHash(`${name}/tcp`)}`;
    chains.push(`:${svc} - [0:0]`);
    svcRules.push(`-A KUBE-SERVICES -d ${vip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${SERVICE_PORT} -j ${svc}`);
    const eps = backendsOf(i, n, backends, targetBackends);
    eps.forEach((ep, k) => {
      const sep = `KUBE-SEP-${portProtoHash(`${name}/tcp/${ep}:${BACKEND_PORT}`)}`;
      chains.push(`:${sep} - [0:0]`);
      const left = eps.length - k;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
      rules.push(`-A ${svc} -m comment --comment "${name} -> ${ep}:${BACKEND_PORT}"${stat} -j ${sep}`);
      rules.push(`-A ${sep} -s ${ep}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${ep}:${BACKEND_PORT}`);
    });
  }
  svcRules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  return ['*nat', ...chains, ...rules, ...svcRules, 'COMMIT', ''].join('\n');
}

/**
 * `nft -f` input shaped as kube-proxy's nftables mode: table ip kube-proxy, a nat-output
 * chain jumping to `services`, whose one rule looks up `ip daddr . meta l4proto . th dport`
 * in the verdict map service-ips; each service chain picks an endpoint with
 * `numgen random mod n vmap`, each endpoint chain DNATs.
 */
export function renderNftables(n, backends, targetBackends) {
  const out = [
    'table ip kube-proxy {',
    '  comment "rules for kube-proxy"',
    '  chain mark-for-masquerade {',
    '    meta mark set meta mark | 0x4000',
    '  }',
    '  chain masquerading {',
    '    meta mark & 0x4000 == 0 return',
    '    meta mark set meta mark ^ 0x4000',
    '    masquerade fully-random',
    '  }',
    '  chain nat-postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    '    jump masquerading',
    '  }',
    '  chain nat-output {',
    '    type nat hook output priority -100; policy accept;',
    '    jump services',
    '  }',
  ];
  const elements = [];
  for (let i = 0; i < n; i++) {
    const name = svcName(i);
    const svcChain = `service-${portProtoHash(`${name}/tcp`).slice(0, 8)}-bench-svc${i}-tcp-http`;
    const eps = backendsOf(i, n, backends, targetBackends);
    const epChains = eps.map((ep) => `endpoint-${portProtoHash(`${name}/tcp/${ep}:${BACKEND_PORT}`).slice(0, 8)}-svc${i}-${ep.replaceAll('.', '-')}`);
    out.push(`  chain ${svcChain} {`);
    out.push(`    numgen random mod ${eps.length} vmap { ${epChains.map((c, k) => `${k} : goto ${c}`).join(', ')} }`);
    out.push('  }');
    eps.forEach((ep, k) => {
      out.push(`  chain ${epChains[k]} {`);
      out.push(`    ip saddr ${ep} jump mark-for-masquerade`);
      out.push(`    meta l4proto tcp dnat to ${ep}:${BACKEND_PORT}`);
      out.push('  }');
    });
    elements.push(`${serviceVip(i)} . tcp . ${SERVICE_PORT} : goto ${svcChain}`);
  }
  out.push('  map service-ips {');
  out.push('    type ipv4_addr . inet_proto . inet_service : verdict');
  out.push('    comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"');
  if (elements.length > 0) out.push(`    elements = { ${elements.join(',\n      ')} }`);
  out.push('  }');
  out.push('  chain services {');
  out.push('    ip daddr . meta l4proto . th dport vmap @service-ips');
  out.push('  }');
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** The resolver's DesiredState (model.ts) for the same Services. */
export function desiredState(n, backends, targetBackends) {
  const services = new Map();
  const frontends = [];
  for (let i = 0; i < n; i++) {
    const key = `${svcName(i)}/TCP cluster`;
    services.set(key, {
      key,
      backends: backendsOf(i, n, backends, targetBackends).map((address) => ({ address, port: BACKEND_PORT, weight: 1, local: false })),
      options: { refuseWhenEmpty: true, localOnly: false },
    });
    frontends.push({ address: serviceVip(i), port: SERVICE_PORT, protocol: 'TCP', kind: 'service', service: key });
  }
  return { services, frontends, refusals: [] };
}
