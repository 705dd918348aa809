// ioredis is loaded only when a Redis output of resolution events is configured: an agent
// without one (the default) does not carry it (~6 MB of RSS). Checked in a fresh node (a jest
// worker may have loaded it already) against the built package, by the CommonJS module cache.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from '@jest/globals';

const here = dirname(fileURLToPath(import.meta.url));
const appModule = pathToFileURL(join(here, '..', 'dist', 'app.js')).href;
const sinkModule = pathToFileURL(join(here, '..', 'dist', 'events', 'redis-sink.js')).href;

function ioredisLoadedAfter(body: string): Promise<boolean> {
  const script = `import { createRequire } from 'node:module';
${body}
const cache = createRequire(process.cwd() + '/x.js').cache;
process.stdout.write(String(Object.keys(cache).some((k) => k.includes('/node_modules/ioredis/'))));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: here }, (err, stdout, stderr) => (err === null ? resolve(stdout.trim() === 'true') : reject(new Error(`${err.message}\n${stderr}`))));
  });
}

it('importing the agent (what the binary runs) does not load ioredis', async () => {
  expect(await ioredisLoadedAfter(`await import('${appModule}');`)).toBe(false);
}, 30_000);

it('a Redis stream sink loads it (so the check above can see it)', async () => {
  const sink = `const { RedisStreamSink } = await import('${sinkModule}');
const s = new RedisStreamSink({ url: 'unix:///nonexistent/balanced-lazy-ioredis.sock', stream: 's', maxLen: 10, queueLimit: 10 });
await s.close(10);`;
  expect(await ioredisLoadedAfter(sink)).toBe(true);
}, 30_000);
