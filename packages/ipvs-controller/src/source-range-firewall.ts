import { execFile } from 'node:child_process';
import { renderSourceRanges, SOURCE_RANGE_TABLE, type SourceRangeRule } from './source-ranges.js';

export interface SourceRangeFirewallOptions {
  /** Run nft inside this network namespace (`ip netns exec NAME`). */
  readonly netns?: string;
  readonly table?: string;
}

/**
 * Keeps balanced's nftables table of source-range rules in the kernel (see renderSourceRanges):
 * replaced in one `nft -f` transaction when the rules change or the table went missing (another
 * tool flushed the ruleset), left alone otherwise. Refused packets are read from the rules'
 * counters; counts of rules replaced by a reload are carried over, so the totals never go back.
 * No nft call at all while no Service asks for source ranges and none ever did.
 */
export class SourceRangeFirewall {
  private applied: string | undefined;
  private readonly carried = new Map<string, number>();
  private readonly table: string;

  constructor(private readonly options: SourceRangeFirewallOptions = {}) {
    this.table = options.table ?? SOURCE_RANGE_TABLE;
  }

  /** Make the kernel hold these rules. Returns true when it wrote them. */
  async sync(rules: readonly SourceRangeRule[]): Promise<boolean> {
    if (rules.length === 0 && this.applied === undefined) return false;
    const text = renderSourceRanges(rules, this.table);
    if (text === this.applied && (await this.present())) return false;
    if (this.applied !== undefined) {
      for (const [id, n] of await this.counters().catch(() => new Map<string, number>())) this.carried.set(id, (this.carried.get(id) ?? 0) + n);
    }
    await this.nft(['-f', '-'], text);
    this.applied = text;
    return true;
  }

  /** Packets refused so far, by virtual service id. */
  async refused(): Promise<Map<string, number>> {
    const out = new Map(this.carried);
    if (this.applied === undefined) return out;
    for (const [id, n] of await this.counters()) out.set(id, (out.get(id) ?? 0) + n);
    return out;
  }

  private async present(): Promise<boolean> {
    return this.nft(['list', 'table', 'inet', this.table]).then(
      () => true,
      () => false,
    );
  }

  private async counters(): Promise<Map<string, number>> {
    const json = JSON.parse(await this.nft(['-j', 'list', 'table', 'inet', this.table])) as { nftables?: unknown[] };
    const out = new Map<string, number>();
    for (const item of json.nftables ?? []) {
      const rule = (item as { rule?: { comment?: unknown; expr?: unknown[] } }).rule;
      if (rule === undefined || typeof rule.comment !== 'string') continue;
      for (const e of rule.expr ?? []) {
        const packets = (e as { counter?: { packets?: unknown } }).counter?.packets;
        if (typeof packets === 'number') out.set(rule.comment, (out.get(rule.comment) ?? 0) + packets);
      }
    }
    return out;
  }

  private nft(args: readonly string[], input?: string): Promise<string> {
    const ns = this.options.netns;
    const [cmd, argv] = ns !== undefined ? ['ip', ['netns', 'exec', ns, 'nft', ...args]] : ['nft', [...args]];
    return new Promise((resolve, reject) => {
      const child = execFile(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`nft ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  }
}
