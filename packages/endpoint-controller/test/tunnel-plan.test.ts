import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { cidrOwnership } from '@balanced/k8s';
import { describeTunnelOps, planTunnel, RP_FILTER_LOOSE, type TunnelActual, type TunnelOp } from '../src/tunnel-plan.js';
import { parseMangleSave, renderMssRestore, type MssOp } from '../src/mss-rules.js';

const owns = cidrOwnership(['10.96.0.0/24']);
const POD_IP = '10.244.0.2';
const fresh: TunnelActual = {
  tunnel: { up: false, mtu: 1480 },
  podInterface: { name: 'eth0', mtu: 1500 },
  addresses: [],
  rpFilter: '0',
  mss: { chain: undefined, jumps: 0 },
};
const ok = (p: ReturnType<typeof planTunnel>): readonly TunnelOp[] => {
  if (!p.ok) throw new Error(p.message);
  return p.ops;
};

/** The namespace as a pure model: what each op does to it (tunl0 created down, MTU 1480, rp_filter 0). */
function applyModel(a: TunnelActual, ops: readonly TunnelOp[]): TunnelActual {
  let s = a;
  for (const op of ops) {
    switch (op.op) {
      case 'create-tunnel':
        if (s.tunnel) throw new Error('EEXIST tunl0');
        s = { ...s, tunnel: { up: false, mtu: 1480 }, rpFilter: '0' };
        break;
      case 'set-mtu':
      case 'link-up':
        if (!s.tunnel) throw new Error('ENODEV');
        s = { ...s, tunnel: op.op === 'set-mtu' ? { ...s.tunnel, mtu: op.mtu } : { ...s.tunnel, up: true } };
        break;
      case 'set-sysctl':
        if (!s.tunnel) throw new Error('ENOENT sysctl');
        s = { ...s, rpFilter: op.value };
        break;
      case 'add-address':
        if (!s.tunnel || s.addresses.includes(op.prefix)) throw new Error(`cannot add ${op.prefix}`);
        s = { ...s, addresses: [...s.addresses, op.prefix] };
        break;
      case 'delete-address':
        if (!s.addresses.includes(op.prefix)) throw new Error(`EADDRNOTAVAIL ${op.prefix}`);
        s = { ...s, addresses: s.addresses.filter((x) => x !== op.prefix) };
        break;
      case 'write-mss':
      case 'remove-mss':
        s = { ...s, mss: applyMss(s.mss, op) };
        break;
    }
  }
  return s;
}

function applyMss(m: TunnelActual['mss'], op: MssOp): TunnelActual['mss'] {
  if (op.op === 'write-mss') return { chain: [...op.rules], jumps: m.jumps - op.extraJumps + (op.addJump ? 1 : 0) };
  return { chain: op.chain ? undefined : m.chain, jumps: m.jumps - op.jumps };
}

describe('planTunnel', () => {
  test('a fresh pod (tunl0 down, MTU already 1500 - 20): up, loose rp_filter, MSS clamp, then the VIPs, in that order', () => {
    expect(ok(planTunnel(['10.96.0.10', '10.96.0.11'], POD_IP, fresh, owns))).toEqual([
      { op: 'link-up' },
      { op: 'set-sysctl', name: 'net/ipv4/conf/tunl0/rp_filter', value: '2' },
      {
        op: 'write-mss',
        rules: [
          '-A BALANCED-MSS -s 10.96.0.10/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss 1440',
          '-A BALANCED-MSS -s 10.96.0.11/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss 1440',
        ],
        addJump: true,
        extraJumps: 0,
      },
      { op: 'add-address', prefix: '10.96.0.10/32' },
      { op: 'add-address', prefix: '10.96.0.11/32' },
    ]);
  });

  test('MTU and MSS follow the pod interface: MTU - 20, MSS = MTU - 20 - 40', () => {
    const p = planTunnel(['10.96.0.10'], POD_IP, { ...fresh, podInterface: { name: 'eth0', mtu: 1400 } }, owns);
    expect(p).toMatchObject({ ok: true, mtu: 1380, mss: 1340 });
    expect(ok(p)[0]).toEqual({ op: 'set-mtu', mtu: 1380 });
  });

  test('no tunl0 in the namespace: create it first', () => {
    const ops = ok(planTunnel(['10.96.0.10'], POD_IP, { ...fresh, tunnel: undefined, rpFilter: undefined }, owns));
    expect(ops.slice(0, 4).map((o) => o.op)).toEqual(['create-tunnel', 'set-mtu', 'link-up', 'set-sysctl']);
  });

  test('removes only owned /32 addresses we no longer want; never others', () => {
    const actual: TunnelActual = { ...fresh, addresses: ['10.96.0.10/32', '10.96.0.99/32', '10.96.0.50/24', '192.0.2.7/32', '10.96.0.77/31'] };
    const ops = ok(planTunnel(['10.96.0.10'], POD_IP, actual, owns));
    expect(ops.filter((o) => o.op === 'delete-address' || o.op === 'add-address')).toEqual([{ op: 'delete-address', prefix: '10.96.0.99/32' }]);
  });

  test('nothing wanted: remove our leftovers, leave tunl0 itself alone; no pod interface needed', () => {
    const actual: TunnelActual = {
      ...fresh,
      tunnel: { up: true, mtu: 1480 },
      podInterface: undefined,
      addresses: ['10.96.0.10/32', '192.0.2.7/32'],
      mss: { chain: ['-A BALANCED-MSS -s 10.96.0.10/32 …'], jumps: 1 },
    };
    expect(ok(planTunnel([], POD_IP, actual, owns))).toEqual([
      { op: 'delete-address', prefix: '10.96.0.10/32' },
      { op: 'remove-mss', jumps: 1, chain: true },
    ]);
    expect(ok(planTunnel([], POD_IP, { ...fresh, podInterface: undefined }, owns))).toEqual([]);
  });

  test('VIPs wanted but the pod IP is on no interface: a typed refusal, no ops', () => {
    expect(planTunnel(['10.96.0.10'], POD_IP, { ...fresh, podInterface: undefined }, owns)).toMatchObject({ ok: false, reason: 'PodIpNotFound' });
  });

  test('duplicate jumps are folded into one; a right chain with a missing jump only adds the jump', () => {
    const rules = ['-A BALANCED-MSS -s 10.96.0.10/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss 1440'];
    const settled: TunnelActual = { ...fresh, tunnel: { up: true, mtu: 1480 }, rpFilter: '2', addresses: ['10.96.0.10/32'] };
    expect(ok(planTunnel(['10.96.0.10'], POD_IP, { ...settled, mss: { chain: rules, jumps: 3 } }, owns))).toEqual([{ op: 'write-mss', rules, addJump: false, extraJumps: 2 }]);
    expect(ok(planTunnel(['10.96.0.10'], POD_IP, { ...settled, mss: { chain: rules, jumps: 0 } }, owns))).toEqual([{ op: 'write-mss', rules, addJump: true, extraJumps: 0 }]);
    expect(ok(planTunnel(['10.96.0.10'], POD_IP, { ...settled, mss: { chain: rules, jumps: 1 } }, owns))).toEqual([]);
  });

  test('describeTunnelOps says what changed', () => {
    const ops = ok(planTunnel(['10.96.0.10'], POD_IP, { ...fresh, addresses: ['10.96.0.9/32'] }, owns));
    expect(describeTunnelOps(ops)).toBe('tunl0: added VIP 10.96.0.10/32; removed VIP 10.96.0.9/32; tunl0 up; net.ipv4.conf.tunl0.rp_filter=2; MSS clamp 1440 on SYN-ACKs from 1 VIP');
  });
});

describe('planTunnel properties (against a model of the namespace)', () => {
  const ADDRS = ['10.96.0.1', '10.96.0.2', '10.96.0.3', '10.96.0.4', '192.0.2.1', '198.51.100.1'];
  const arbPrefix = fc.tuple(fc.constantFrom(...ADDRS), fc.constantFrom(32, 32, 32, 24)).map(([a, l]) => `${a}/${l}`);
  const arbActual: fc.Arbitrary<TunnelActual> = fc.record({
    tunnel: fc.option(fc.record({ up: fc.boolean(), mtu: fc.constantFrom(1480, 1380, 1500) }), { nil: undefined }),
    podInterface: fc.record({ name: fc.constant('eth0'), mtu: fc.constantFrom(1500, 1400, 9000) }),
    addresses: fc.uniqueArray(arbPrefix, { maxLength: 5 }),
    rpFilter: fc.constantFrom('0', '1', '2'),
    mss: fc.record({
      chain: fc.option(fc.array(fc.constantFrom('-A BALANCED-MSS -s 10.96.0.1/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss 1440', '-A BALANCED-MSS -j ACCEPT'), { maxLength: 2 }), { nil: undefined }),
      jumps: fc.nat(3),
    }),
  }).map((a) => (a.tunnel === undefined ? { ...a, addresses: [], rpFilter: undefined } : a))
    .map((a) => (a.mss.chain === undefined ? { ...a, mss: { chain: undefined, jumps: 0 } } : a));
  const arbVips = fc.uniqueArray(fc.constantFrom('10.96.0.1', '10.96.0.2', '10.96.0.3'), { maxLength: 3 }).map((v) => [...v].sort());

  test('one plan converges: applying it leaves nothing to do, with every wanted VIP present', () => {
    fc.assert(
      fc.property(arbActual, arbVips, (actual, vips) => {
        const after = applyModel(actual, ok(planTunnel(vips, POD_IP, actual, owns)));
        expect(ok(planTunnel(vips, POD_IP, after, owns))).toEqual([]);
        for (const v of vips) expect(after.addresses).toContain(`${v}/32`);
        if (vips.length > 0) {
          expect(after.tunnel).toEqual({ up: true, mtu: actual.podInterface!.mtu - 20 });
          expect(after.rpFilter).toBe(RP_FILTER_LOOSE);
          expect(after.mss.jumps).toBe(1);
          expect(after.mss.chain?.length).toBe(vips.length);
        } else {
          expect(after.mss).toEqual({ chain: undefined, jumps: 0 });
        }
      }),
    );
  });

  test('addresses that are not owned, or not /32, are never removed; owned /32 ones not wanted always are', () => {
    fc.assert(
      fc.property(arbActual, arbVips, (actual, vips) => {
        const after = applyModel(actual, ok(planTunnel(vips, POD_IP, actual, owns)));
        for (const p of actual.addresses) {
          const [ip, len] = p.split('/');
          const ours = owns(ip!) && len === '32';
          expect(after.addresses.includes(p)).toBe(!ours || (vips as readonly string[]).includes(ip!));
        }
      }),
    );
  });

  test('ops come in phase order: device, sysctl, removals, MSS, additions', () => {
    const phase: Record<TunnelOp['op'], number> = { 'create-tunnel': 0, 'set-mtu': 1, 'link-up': 2, 'set-sysctl': 3, 'delete-address': 4, 'write-mss': 5, 'remove-mss': 5, 'add-address': 6 };
    fc.assert(
      fc.property(arbActual, arbVips, (actual, vips) => {
        const ranks = ok(planTunnel(vips, POD_IP, actual, owns)).map((o) => phase[o.op]);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      }),
    );
  });

  test('the restore text and the save parser agree: what a write puts in, the parser reads back', () => {
    fc.assert(
      fc.property(arbVips.filter((v) => v.length > 0), fc.nat(3), (vips, jumps) => {
        const p = ok(planTunnel(vips, POD_IP, { ...fresh, mss: { chain: [], jumps } }, owns)).find((o) => o.op === 'write-mss');
        if (p === undefined || p.op !== 'write-mss') throw new Error('expected a write-mss op');
        // A restore that starts from an empty table produces this save output:
        const save = ['*mangle', ':OUTPUT ACCEPT [0:0]', ':BALANCED-MSS - [0:0]', '-A OUTPUT -j BALANCED-MSS', ...p.rules, 'COMMIT'].join('\n');
        expect(parseMangleSave(save)).toEqual({ chain: p.rules, jumps: 1 });
        expect(renderMssRestore(p)).toContain(p.rules.join('\n'));
      }),
    );
  });
});
