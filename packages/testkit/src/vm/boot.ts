import { spawn } from 'node:child_process';
import { consoleDecoder, parseRunExit } from './console.js';

export interface BootAttempt {
  /** The guest command's status, undefined when RUN_EXIT never appeared. */
  readonly exitCode: number | undefined;
  /** Serial console text (CR stripped). */
  readonly output: string;
  /** QEMU's own stderr. */
  readonly qemuStderr: string;
  readonly durationMs: number;
  /** Why the attempt failed, when it did. */
  readonly failure?: string;
}

/** After RUN_EXIT appears, QEMU gets this long to power off before it is killed. */
const POWEROFF_GRACE_MS = 5000;

/**
 * Boots QEMU once with `args` and a hard timeout (SIGKILL by pid). Streams the console to
 * `onOutput` as it arrives.
 */
export function bootOnce(
  qemu: string,
  args: readonly string[],
  timeoutMs: number,
  onOutput?: (text: string) => void,
): Promise<BootAttempt> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(qemu, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let qemuStderr = '';
    let timedOut = false;
    let sawExit = false;
    let grace: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    const hard = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);

    const decode = consoleDecoder();
    child.stdout.on('data', (chunk: Buffer) => {
      const text = decode(chunk);
      output += text;
      onOutput?.(text);
      if (!sawExit && /(^|\n)RUN_EXIT=\d+\n/.test(output.slice(-(text.length + 32)))) {
        sawExit = true;
        grace = setTimeout(kill, POWEROFF_GRACE_MS);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      qemuStderr += chunk.toString('utf8');
    });
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      if (grace !== undefined) clearTimeout(grace);
      const exitCode = parseRunExit(output);
      let failure: string | undefined;
      if (exitCode === undefined) {
        if (spawnError !== undefined) failure = `cannot start ${qemu}: ${spawnError.message}`;
        else if (timedOut) failure = `no RUN_EXIT within ${timeoutMs} ms (killed QEMU pid ${child.pid})`;
        else failure = `QEMU exited (${signal ?? code}) without RUN_EXIT`;
      }
      resolvePromise({
        exitCode,
        output,
        qemuStderr,
        durationMs: Date.now() - started,
        ...(failure !== undefined ? { failure } : {}),
      });
    });
  });
}
