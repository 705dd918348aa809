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


export function labCommand(io: CliIo): Command {
  const lab = new Command('lab').description("The test lab (QEMU TCG VM with Debian's kernel; see LAB.md), through @balanced/testkit");
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
  return lab.addCommand(up).addCommand(down);
}
