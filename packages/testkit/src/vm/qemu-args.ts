import { MOUNT_TAGS } from './guest.js';

export interface QemuArgsOptions {
  readonly kernel: string;
  readonly initrd: string;
  readonly repoDir: string;
  readonly exchangeDir: string;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly extraAppend?: string;
}

/** Escapes a value for a QEMU `-opt key=value,...` list (a comma is written twice). */
export function qemuOptValue(value: string): string {
  return value.replace(/,/g, ',,');
}

function share(id: string, path: string, tag: string, readonly: boolean): string[] {
  const fsdev = `local,id=${id},path=${qemuOptValue(path)},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`;
  return ['-fsdev', fsdev, '-device', `virtio-9p-pci,fsdev=${id},mount_tag=${tag}`];
}

/**
 * qemu-system-x86_64 arguments: `pc` machine under TCG (never microvm: it hangs on TSC
 * calibration ~1 boot in 4), PVH direct boot of the uncompressed vmlinux, serial on stdio,
 * no network device, three 9p shares (host / read-only, repository and exchange read-write).
 */
export function buildQemuArgs(o: QemuArgsOptions): string[] {
  const append = ['console=ttyS0', 'quiet', 'panic=-1', o.extraAppend ?? ''].filter((s) => s !== '').join(' ');
  return [
    '-M', 'pc',
    '-accel', 'tcg,thread=multi',
    '-cpu', 'max',
    '-m', String(o.memoryMb),
    '-smp', String(o.cpus),
    '-nographic', '-no-reboot', '-nodefaults',
    '-serial', 'stdio',
    // keep SeaBIOS's serial console (it has no VGA) off the console log
    '-fw_cfg', 'name=etc/sercon-port,string=0',
    '-kernel', o.kernel,
    '-initrd', o.initrd,
    '-append', append,
    ...share('root', '/', MOUNT_TAGS.root, true),
    ...share('repo', o.repoDir, MOUNT_TAGS.repo, false),
    ...share('xchg', o.exchangeDir, MOUNT_TAGS.exchange, false),
  ];
}
