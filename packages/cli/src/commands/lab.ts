import { Command } from 'commander';
import type { CliIo } from '../io.js';
import { positiveNumber } from '../options.js';

export interface UpOptions {
  cacheDir?: string;
  bootCheck: boolean;
  timeout: number;
  json?: boolean;
}

export interface DownOptions {
  cacheDir?: string;
  json?: boolean;
}

export interface DemoOptions {
  report?: string;
  timeout: number;
}

/** `npm run demo`'s lab timeout (BALANCED_LAB_TIMEOUT_MS in the root package.json), in seconds. */
export const DEMO_TIMEOUT_SECONDS = 1500;
/**
 * `npm run demo`'s guest RAM (BALANCED_LAB_MEMORY_MB in the root package.json), in MiB. The
 * demo runs a dozen node processes at once; at the lab's default 1024 MiB the guest had
 * ~180 MiB left and evicted node's own pages (read back over 9p), so a process started late
 * in the demo took tens of seconds to print its first line on a loaded host.
 */
export const DEMO_MEMORY_MB = 2048;

export function labCommand(io: CliIo): Command {
  const lab = new Command('lab').description("The lab (QEMU TCG VM with Debian's kernel), through @balanced/testkit: prepare it (up), clean it (down), run the demo in it (demo)");
  const up = new Command('up')
    .description("Prepare the lab: extract the kernel's vmlinux and build the initramfs in the lab cache (reused by every later boot); with --boot-check, boot it once")
    .option('--cache-dir <dir>', 'lab cache folder (default: <repository>/.lab)')
    .option('--boot-check', 'boot the VM once and run `true` in it (default cache only)', false)
    .option('--timeout <seconds>', 'hard limit for the boot check', positiveNumber, 120)
    .option('--json', 'print JSON');
  up.action(async (o: UpOptions) => {
    const { runLabUp } = await import('../actions/lab.js');
    await runLabUp(io, o);
  });
  const down = new Command('down')
    .description('Remove what `lab up` made (the extracted kernel and initramfs files) from the lab cache; nothing else')
    .option('--cache-dir <dir>', 'lab cache folder (default: <repository>/.lab)')
    .option('--json', 'print JSON');
  down.action(async (o: DownOptions) => {
    const { runLabDown } = await import('../actions/lab.js');
    await runLabDown(io, o);
  });
  const demo = new Command('demo')
    .description(
      'Run the main job of `npm run demo` in the lab VM: the whole system from its real binaries (two directors behind a BGP router ' +
        'with ECMP, a node with three pods, the cgroup-resolver, the allocator), a LoadBalancer Service, traffic, a director failing, ' +
        'a pod draining, east-west. Needs a built checkout (npm run setup); prepares the lab like `lab up` on first use.',
    )
    .option('--report <file>', 'also write the run as a static HTML page (chart of shares, failover timeline, checks)')
    .option('--timeout <seconds>', 'hard limit for the VM (a boot that never finishes is retried once)', positiveNumber, DEMO_TIMEOUT_SECONDS);
  demo.addHelpText('after', '\nExit status: 0 every check held, 1 a check failed or the lab could not run, 2 usage.\n');
  demo.action(async (o: DemoOptions) => {
    const { runLabDemo } = await import('../actions/lab-demo.js');
    await runLabDemo(io, o);
  });
  return lab.addCommand(up).addCommand(down).addCommand(demo);
}
