import { describe, expect, it } from '@jest/globals';
import { bootOnce } from '../src/vm/boot.js';

// bootOnce with /bin/sh standing in for QEMU: console parsing, hard timeout, poweroff grace.
describe('bootOnce', () => {
  it('streams CR-stripped output and parses RUN_EXIT', async () => {
    const chunks: string[] = [];
    const r = await bootOnce('/bin/sh', ['-c', 'printf "hello\\r\\nRUN_EXIT=4\\r\\n"'], 10_000, (t) => chunks.push(t));
    expect(r.exitCode).toBe(4);
    expect(r.failure).toBeUndefined();
    expect(chunks.join('')).toBe('hello\nRUN_EXIT=4\n');
  });
  it('reports a process that exits without RUN_EXIT', async () => {
    const r = await bootOnce('/bin/sh', ['-c', 'echo Kernel panic; exit 1'], 10_000);
    expect(r.exitCode).toBeUndefined();
    expect(r.failure).toMatch(/exited \(1\) without RUN_EXIT/);
  });
  it('kills a hung guest at the hard timeout', async () => {
    const started = Date.now();
    const r = await bootOnce('/bin/sh', ['-c', 'exec sleep 30'], 300);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.exitCode).toBeUndefined();
    expect(r.failure).toMatch(/no RUN_EXIT within 300 ms/);
  });
  it('keeps the status when the guest reported but never powered off', async () => {
    const r = await bootOnce('/bin/sh', ['-c', 'echo RUN_EXIT=0; exec sleep 30'], 60_000);
    expect(r.exitCode).toBe(0);
    expect(r.durationMs).toBeLessThan(15_000);
  }, 20_000);
  it('reports a missing binary', async () => {
    const r = await bootOnce('/nonexistent/qemu', [], 5_000);
    expect(r.failure).toMatch(/cannot start/);
  });
});
