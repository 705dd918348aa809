import { Option, InvalidArgumentError, type Command } from 'commander';
import { UsageError } from './errors.js';

/** The cgroup-resolver's DEFAULT_PIN_ROOT (a test holds them equal; importing it would load libbpf for --help). */
export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/balanced';

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

/** `-f a.yaml -f b.yaml` and `-f a.yaml b.yaml` both collect. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'read Services, EndpointSlices, Pods, Nodes, VipPools, LocalRedirectPolicies and BalancingPolicies from this cluster')
    .option('-f, --file <file>', 'read them from manifest files instead (multi-document YAML; repeatable)', collect)
    .option('--timeout <seconds>', 'give up on a cluster that does not answer', positiveNumber, 30);
}

export function addDirectorOptions(cmd: Command): Command {
  return cmd
    .option('--netns <path>', "the director's network namespace (e.g. /run/netns/director1); default: this process's")
    .option('--vip-cidr <cidr>', 'VIP CIDRs the director owns, as its --vip-cidr (repeatable; default: the VipPools, else every address)', collect)
    .option('--default-class', 'also serve LoadBalancer Services without spec.loadBalancerClass', false)
    .option('--drain-seconds <n>', 'drain period for Services that left', nonNegativeInt, 30);
}

export function addResolverOptions(cmd: Command): Command {
  return cmd
    .option('--pin-root <dir>', "the cgroup-resolver's pinned maps", DEFAULT_PIN_ROOT)
    .option('--node <name>', "the resolver's node (its local endpoints); default: outside the cluster");
}

export function jsonOption(cmd: Command): Command {
  return cmd.addOption(new Option('--json', 'print JSON instead of tables'));
}

/** Parses a comma list against the allowed words. */
export function componentList<T extends string>(text: string | undefined, allowed: readonly T[], option: string): T[] {
  if (text === undefined) return [...allowed];
  const words = text.split(',').map((w) => w.trim()).filter(Boolean);
  for (const w of words) if (!(allowed as readonly string[]).includes(w)) throw new UsageError(`${option}: unknown ${JSON.stringify(w)} (one or more of ${allowed.join(', ')})`);
  return [...new Set(words)] as T[];
}
