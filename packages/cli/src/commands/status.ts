import { Command } from 'commander';
import type { CliIo } from '../io.js';
import { addResolverOptions, addSourceOptions, jsonOption } from '../options.js';

export const STATUS_COMPONENTS = ['ipvs', 'resolver', 'bird'] as const;

export const DEFAULT_BIRD_SOCKET = '/run/bird/bird.ctl';

export interface StatusOptions {
  kubeconfig?: string;
  file?: string[];
  timeout: number;
  netns?: string;
  pinRoot: string;
  node?: string;
  birdSocket: string;
  component?: string;
  json?: boolean;
}

export function statusCommand(io: CliIo): Command {
  const cmd = new Command('status')
    .description("What is programmed where: the IPVS table with stats, the cgroup-resolver's pinned maps, and what BIRD announces; with Kubernetes names when the cluster state is given.")
    .option('--component <list>', `comma list of ${STATUS_COMPONENTS.join(', ')} (default: all; a part that is not on this host is reported as unavailable)`)
    .option('--netns <path>', "the director's network namespace; default: this process's")
    .option('--bird-socket <path>', "BIRD's control socket", DEFAULT_BIRD_SOCKET);
  addSourceOptions(cmd);
  addResolverOptions(cmd);
  jsonOption(cmd);
  cmd.addHelpText('after', '\nExit status: 0 shown, 1 a part named in --component could not be read, 2 usage.\n');
  return cmd.action(async (o: StatusOptions) => {
    const { runStatus } = await import('../actions/status.js');
    await runStatus(io, o);
  });
}
