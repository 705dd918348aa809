import { spawn } from 'node:child_process';

/** Decompresses the first xz stream of `input` with the xz CLI (xz-utils). */
export function xzDecompress(input: Buffer): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    // --single-stream: the bzImage carries trailing bytes after the xz stream.
    const child = spawn('xz', ['-dc', '--single-stream'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(Buffer.concat(out));
      else reject(new Error(`xz -dc failed (${code}): ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.on('error', () => undefined); // xz may stop reading before the trailing bytes
    child.stdin.end(input);
  });
}
