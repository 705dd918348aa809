import { readFileSync } from 'node:fs';

/**
 * Mount points of cgroup v2 in a mounts table (`/proc/self/mounts` format), in order.
 * Pure: the caller reads the file.
 */
export function cgroup2MountPoints(mounts: string): string[] {
  const points: string[] = [];
  for (const line of mounts.split('\n')) {
    const fields = line.split(' ');
    // device mountpoint fstype options dump pass; spaces in paths are octal-escaped (\040)
    if (fields[2] === 'cgroup2' && fields[1] !== undefined) points.push(fields[1].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return points;
}

/**
 * The cgroup v2 root this process sees: `/sys/fs/cgroup` on a unified host,
 * `/sys/fs/cgroup/unified` on a hybrid one. Undefined when cgroup v2 is not mounted.
 */
export function defaultCgroupRoot(readMounts: () => string = () => readFileSync('/proc/self/mounts', 'utf8')): string | undefined {
  return cgroup2MountPoints(readMounts())[0];
}
