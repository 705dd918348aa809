import type { CliIo } from './io.js';

const FRAMES = ['|', '/', '-', '\\'];
export const PROGRESS_DELAY_MS = 1000;

/**
 * Runs `work`, and when it takes longer than a second and stderr is a terminal, draws
 * `label` with a spinner on stderr until it ends (the line is cleared afterwards). Nothing
 * is drawn when stderr is not a terminal, so captured output stays clean.
 */
export async function withProgress<T>(io: CliIo, label: string, work: () => Promise<T>): Promise<T> {
  if (!io.errIsTty) return work();
  const started = Date.now();
  let frame = 0;
  let drawn = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const delay = setTimeout(() => {
    ticker = setInterval(() => {
      const secs = Math.floor((Date.now() - started) / 1000);
      io.err(`\r${FRAMES[frame % FRAMES.length]} ${label} (${secs} s)\x1b[K`);
      drawn = true;
      frame += 1;
    }, 100);
    ticker.unref();
  }, PROGRESS_DELAY_MS);
  delay.unref();
  try {
    return await work();
  } finally {
    clearTimeout(delay);
    if (ticker !== undefined) clearInterval(ticker);
    if (drawn) io.err('\r\x1b[K');
  }
}
