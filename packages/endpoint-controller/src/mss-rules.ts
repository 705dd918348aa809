// TCP MSS clamping for the VIPs, as iptables rules in the pod's mangle table (pure parts).
//
// A client's segments reach the pod inside an IPIP packet the director built: 20 bytes more
// than the client sent. The pod's SYN-ACK advertises an MSS that fits the pod's own link
// (MTU - 40), so a full-size client segment would no longer fit once encapsulated. Clamping
// the MSS of SYN-ACKs sent from a VIP to MTU - 20 - 40 keeps every encapsulated segment
// within the pod link's MTU. --set-mss only ever lowers an MSS.

/** The mangle-table chain balanced owns in each pod namespace; nothing else is touched. */
export const MSS_CHAIN = 'BALANCED-MSS';

/** What the pod's mangle table holds of ours: the chain's rules (undefined = no chain) and the OUTPUT jumps to it. */
export interface MssState {
  readonly chain: readonly string[] | undefined;
  readonly jumps: number;
}

export type MssOp =
  /** Refill the chain with `rules` (iptables-save form); add the OUTPUT jump, drop duplicate jumps. */
  | { readonly op: 'write-mss'; readonly rules: readonly string[]; readonly addJump: boolean; readonly extraJumps: number }
  /** No VIPs left: delete the jumps and the chain. */
  | { readonly op: 'remove-mss'; readonly jumps: number; readonly chain: boolean };

const JUMP = `-A OUTPUT -j ${MSS_CHAIN}`;

/**
 * One rule per VIP, exactly as `iptables-save` prints it (so actual and desired compare as
 * text): SYN-ACKs (SYN and ACK set, RST clear) from the VIP get MSS `mss`.
 */
export function renderMssRules(vips: readonly string[], mss: number): string[] {
  return vips.map((vip) => `-A ${MSS_CHAIN} -s ${vip}/32 -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN,ACK -j TCPMSS --set-mss ${mss}`);
}

/** Our chain and jumps in `iptables-save -t mangle` output; everything else is ignored. */
export function parseMangleSave(save: string): MssState {
  let table = '';
  let chainDeclared = false;
  const rules: string[] = [];
  let jumps = 0;
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    if (table !== 'mangle') continue;
    if (line === `:${MSS_CHAIN} - [0:0]` || line.startsWith(`:${MSS_CHAIN} `)) chainDeclared = true;
    else if (line.startsWith(`-A ${MSS_CHAIN} `)) rules.push(line);
    else if (line === JUMP) jumps++;
  }
  return { chain: chainDeclared || rules.length > 0 ? rules : undefined, jumps };
}

/** Pure: what to change so the mangle table holds exactly `rules` (undefined: nothing of ours). */
export function planMss(rules: readonly string[] | undefined, actual: MssState): MssOp | undefined {
  if (rules === undefined || rules.length === 0) {
    if (actual.chain === undefined && actual.jumps === 0) return undefined;
    return { op: 'remove-mss', jumps: actual.jumps, chain: actual.chain !== undefined };
  }
  const same = actual.chain !== undefined && actual.chain.length === rules.length && actual.chain.every((r, i) => r === rules[i]);
  if (same && actual.jumps === 1) return undefined;
  return { op: 'write-mss', rules: [...rules], addJump: actual.jumps === 0, extraJumps: Math.max(0, actual.jumps - 1) };
}

/** Pure: the `iptables-restore --noflush` input for one op (one transaction). */
export function renderMssRestore(op: MssOp): string {
  const lines = ['*mangle'];
  if (op.op === 'write-mss') {
    lines.push(`:${MSS_CHAIN} - [0:0]`, `-F ${MSS_CHAIN}`, ...op.rules);
    for (let i = 0; i < op.extraJumps; i++) lines.push(`-D OUTPUT -j ${MSS_CHAIN}`);
    if (op.addJump) lines.push(`-I OUTPUT 1 -j ${MSS_CHAIN}`);
  } else {
    for (let i = 0; i < op.jumps; i++) lines.push(`-D OUTPUT -j ${MSS_CHAIN}`);
    if (op.chain) lines.push(`-F ${MSS_CHAIN}`, `-X ${MSS_CHAIN}`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}
