// The progress display: drawn on stderr only when it is a terminal and only once the work has
// taken more than a second (jest's fake clock drives the time); the line is cleared after.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { CliIo } from '../src/io.js';
import { PROGRESS_DELAY_MS, withProgress } from '../src/progress.js';

function io(tty: boolean): CliIo & { errText: () => string } {
  const err: string[] = [];
  return { out: () => undefined, err: (t) => void err.push(t), errIsTty: tty, env: {}, errText: () => err.join('') };
}

/** Work that ends when the fake clock has moved `ms`. */
function after(ms: number): Promise<string> {
  return new Promise((resolve) => setTimeout(() => resolve('done'), ms));
}

describe('withProgress', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('draws a spinner after a second on a terminal, then clears its line', async () => {
    const t = io(true);
    const p = withProgress(t, 'reading IPVS', () => after(PROGRESS_DELAY_MS + 500));
    await jest.advanceTimersByTimeAsync(PROGRESS_DELAY_MS - 1);
    expect(t.errText()).toBe('');
    await jest.advanceTimersByTimeAsync(501);
    await expect(p).resolves.toBe('done');
    // eslint-disable-next-line no-control-regex -- matching the terminal's ESC [ K on purpose
    expect(t.errText()).toMatch(/^\r. reading IPVS \(1 s\)\x1b\[K/);
    expect(t.errText().endsWith('\r\x1b[K')).toBe(true);
  });

  it('draws nothing for quick work, nor when stderr is not a terminal', async () => {
    const quick = io(true);
    const piped = io(false);
    const a = withProgress(quick, 'x', () => after(PROGRESS_DELAY_MS - 100));
    const b = withProgress(piped, 'x', () => after(PROGRESS_DELAY_MS * 5));
    await jest.advanceTimersByTimeAsync(PROGRESS_DELAY_MS * 5);
    await Promise.all([a, b]);
    expect(quick.errText()).toBe('');
    expect(piped.errText()).toBe('');
  });

  it('passes a failure through and still clears the line', async () => {
    const t = io(true);
    const p = withProgress(t, 'x', async () => {
      await after(PROGRESS_DELAY_MS * 2);
      throw new Error('boom');
    });
    const settled = expect(p).rejects.toThrow('boom');
    await jest.advanceTimersByTimeAsync(PROGRESS_DELAY_MS * 2);
    await settled;
    expect(t.errText().endsWith('\r\x1b[K')).toBe(true);
  });
});
