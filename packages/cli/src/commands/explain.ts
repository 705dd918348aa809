import { Command, Option } from 'commander';
import type { CliIo } from '../io.js';
import { addDirectorOptions, addResolverOptions, addSourceOptions, jsonOption, nonNegativeInt } from '../options.js';

export interface ExplainOptions {
  kubeconfig?: string;
  file?: string[];
  timeout: number;
  netns?: string;
  vipCidr?: string[];
  defaultClass: boolean;
  drainSeconds: number;
  pinRoot: string;
  node?: string;
  protocol: 'tcp' | 'udp';
  empty?: boolean;
  tabIndex?: number;
  lastWeight?: string[];
  resolver?: boolean;
  pod?: string;
  json?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function explainCommand(io: CliIo): Command {
  const cmd = new Command('explain')
    .description(
      'Which backend a client gets and why. Director (default): the exact kernel mh model against the live table, or the planned one when the cluster state is given (-f/--kubeconfig). --resolver: which frontend (LocalRedirectPolicy, BalancingPolicy or Service, in the hook\'s lookup order) and backend set a connection from a pod to <target> hits.',
    )
    .argument('<target>', 'VIP:port (director) or address:port (--resolver)')
    .argument('[client]', 'client address[:port] (director; the port matters only with mh-port)')
    .addOption(new Option('--protocol <protocol>', 'protocol of the virtual service / frontend').choices(['tcp', 'udp']).default('tcp'))
    .option('--empty', 'plan against an empty table/maps instead of the live ones (needs the cluster state)', false)
    .option('--tab-index <n>', "CONFIG_IP_VS_MH_TAB_INDEX (default: the running kernel's config, else 12)", nonNegativeInt)
    .option('--last-weight <address:port=weight>', "last_weight of a weight-0 destination in the live table (the dump hides it; the cluster state gives it too)", collect)
    .option('--resolver', "explain the cgroup-resolver's choice instead of the director's", false)
    .option('--pod <namespace/name>', '--resolver: the client pod (its node decides which endpoints are local)');
  addSourceOptions(cmd);
  addDirectorOptions(cmd);
  addResolverOptions(cmd);
  jsonOption(cmd);
  cmd.addHelpText('after', '\nExit status: 0 explained (even when the answer is "dropped" or "refused"), 1 no such service or unreadable state, 2 usage.\n');
  return cmd.action(async (targetText: string, clientText: string | undefined, o: ExplainOptions) => {
    const { runExplain } = await import('../actions/explain.js');
    await runExplain(io, targetText, clientText, o);
  });
}
