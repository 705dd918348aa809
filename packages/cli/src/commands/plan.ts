import { Command } from 'commander';
import type { CliIo } from '../io.js';
import { addDirectorOptions, addResolverOptions, addSourceOptions, jsonOption } from '../options.js';

export const PLAN_COMPONENTS = ['director', 'resolver', 'allocator'] as const;

export interface PlanOptions {
  kubeconfig?: string;
  file?: string[];
  timeout: number;
  netns?: string;
  vipCidr?: string[];
  defaultClass: boolean;
  drainSeconds: number;
  pinRoot: string;
  node?: string;
  component?: string;
  empty?: boolean;
  json?: boolean;
}

export function planCommand(io: CliIo): Command {
  const cmd = new Command('plan')
    .description('Dry run: the operations the director (IPVS), the resolver (BPF maps) and the allocator (Service status) would make, from a cluster or manifest files, against the live kernel or an empty one.')
    .option('--component <list>', `comma list of ${PLAN_COMPONENTS.join(', ')} (default: all)`)
    .option('--empty', 'plan against an empty IPVS table and empty resolver maps instead of the live ones', false);
  addSourceOptions(cmd);
  addDirectorOptions(cmd);
  addResolverOptions(cmd);
  jsonOption(cmd);
  cmd.addHelpText('after', '\nExit status: 0 planned (whatever the ops), 1 a component could not be planned (kernel or maps unreadable), 2 usage.\n');
  return cmd.action(async (o: PlanOptions) => {
    const { runPlan } = await import('../actions/plan.js');
    await runPlan(io, o);
  });
}
