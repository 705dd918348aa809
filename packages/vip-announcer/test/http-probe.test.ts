import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from '@jest/globals';
import { httpReadyProbe } from '../src/http-probe.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/readyz`;
}

describe('httpReadyProbe', () => {
  test('2xx is ready; other codes are not, with the body as detail', async () => {
    let status = 200;
    const url = await serve((_req, res) => {
      res.statusCode = status;
      res.end(status === 200 ? 'ok\n' : 'not ready: informers synced: false\n');
    });
    const probe = httpReadyProbe(url);
    expect(await probe(new AbortController().signal)).toEqual({ ok: true, detail: `${url}: HTTP 200 ok` });
    status = 503;
    expect(await probe(new AbortController().signal)).toEqual({ ok: false, detail: `${url}: HTTP 503 not ready: informers synced: false` });
  });

  test('nobody listening is not ready', async () => {
    const url = await serve((_req, res) => res.end());
    const closed = servers.pop() as Server;
    await new Promise((r) => closed.close(r));
    const result = await httpReadyProbe(url)(new AbortController().signal);
    expect(result).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
  });

  test('an aborted probe gives up', async () => {
    const url = await serve(() => undefined); // never answers
    const abort = new AbortController();
    const pending = httpReadyProbe(url)(abort.signal);
    abort.abort();
    expect(await pending).toMatchObject({ ok: false });
  });

  test('only http:// URLs', () => {
    expect(() => httpReadyProbe('https://127.0.0.1/readyz')).toThrow(RangeError);
  });
});
