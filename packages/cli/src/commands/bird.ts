import { Command } from 'commander';
import type { CliIo } from '../io.js';
import { addSourceOptions, jsonOption } from '../options.js';

export interface RenderOptions {
  config: string;
  kubeconfig?: string;
  file?: string[];
  timeout: number;
  defaultClass: boolean;
  controllerUnhealthy: boolean;
  json?: boolean;
}

export function birdCommand(io: CliIo): Command {
  const bird = new Command('bird').description('BIRD, as the vip-announcer drives it');
  const render = new Command('render')
    .description("The BIRD config this director's vip-announcer would write: its config file, and the Services, EndpointSlices and VipPools of a cluster or manifest files (none given: no VIPs).")
    .requiredOption('--config <file>', "the vip-announcer's config (YAML, as its --config)")
    .option('--default-class', 'also serve LoadBalancer Services without spec.loadBalancerClass', false)
    .option('--controller-unhealthy', 'render as the announcer does while the ipvs-controller is not ready (every VIP withdrawn)', false);
  addSourceOptions(render);
  jsonOption(render);
  render.addHelpText('after', '\nExit status: 0 rendered, 1 config or cluster unreadable, 2 usage.\n');
  render.action(async (o: RenderOptions) => {
    const { runBirdRender } = await import('../actions/bird.js');
    await runBirdRender(io, o);
  });
  return bird.addCommand(render);
}
