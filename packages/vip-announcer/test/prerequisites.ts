// Integration tests need BIRD 2 (and root, for network namespaces). Without them they skip
// loudly, except under CI, where a missing prerequisite is a failure.
import { existsSync } from 'node:fs';

export const BIRD = '/usr/sbin/bird';

/** The reason the prerequisites are missing, or undefined. Throws under CI=true. */
export function missingPrerequisite(options: { root: boolean }): string | undefined {
  let reason: string | undefined;
  if (!existsSync(BIRD)) reason = `${BIRD} is not installed (Debian package bird2)`;
  else if (options.root && process.getuid?.() !== 0) reason = 'network namespaces need root';
  if (reason === undefined) return undefined;
  if (process.env.CI === 'true') throw new Error(`prerequisite missing under CI: ${reason}`);
  process.stderr.write(`SKIPPED: vip-announcer integration: ${reason}\n`);
  return reason;
}
