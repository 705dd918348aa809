import { afterEach, describe, expect, test } from '@jest/globals';
import type { BirdError} from '../src/index.js';
import { BirdClient } from '../src/index.js';
import { isBirdError } from '../src/bird-errors.js';
import { startFakeBird, type FakeBird, type Script } from './fake-bird.js';

const open: { fake?: FakeBird; client?: BirdClient }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.client?.close();
    await o.fake?.close();
  }
});

async function setup(script: Script, options: { greeting?: string; timeoutMs?: number; onSpontaneous?: (t: string) => void } = {}) {
  const fake = await startFakeBird(script, options.greeting);
  const client = new BirdClient({ socketPath: fake.socketPath, timeoutMs: options.timeoutMs ?? 2000, ...(options.onSpontaneous ? { onSpontaneous: options.onSpontaneous } : {}) });
  open.push({ fake, client });
  return { fake, client };
}

async function failure(p: Promise<unknown>): Promise<BirdError> {
  try {
    await p;
  } catch (e) {
    if (isBirdError(e)) return e;
    throw e;
  }
  throw new Error('expected a BirdError');
}

describe('BirdClient', () => {
  test('reads the greeting once, then answers commands over the same connection', async () => {
    const { fake, client } = await setup((c) => ({ write: c === 'show status' ? '1000-BIRD 2.0.12\n1011-Router ID is 10.0.1.2\n Hostname is vm\n0013 Daemon is up and running\n' : '0000 \n' }));
    expect(await client.status()).toEqual({ version: 'BIRD 2.0.12', routerId: '10.0.1.2', message: 'Daemon is up and running' });
    expect((await client.execute('show nothing')).code).toBe(0);
    expect(fake.connections).toBe(1);
    expect(fake.commands).toEqual(['show status', 'show nothing']);
  });

  test('concurrent calls are serialised: BIRD never sees a command before the previous reply, and each caller gets its own reply', async () => {
    const { fake, client } = await setup((c) => ({ write: `0000 ${c}\n`, delayMs: 5 }));
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => client.execute(`echo ${i}`)));
    expect(replies.map((r) => r.text)).toEqual(Array.from({ length: 20 }, (_, i) => `echo ${i}`));
    expect(fake.overlaps).toBe(0);
  });

  test('an 8xxx/9xxx reply is a BIRD_REPLY_ERROR carrying code and text; the connection stays usable', async () => {
    const { fake, client } = await setup((c) => ({ write: c.startsWith('configure') ? '0002-Reading configuration from /etc/bird.conf\n8002 /etc/x.conf:3:1 syntax error\n' : '0000 \n' }));
    const e = await failure(client.configure());
    expect(e).toMatchObject({ code: 'BIRD_REPLY_ERROR', command: 'configure', replyCode: 8002, replyText: '/etc/x.conf:3:1 syntax error' });
    expect(e.message).toContain('Reading configuration from /etc/bird.conf');
    expect((await client.execute('show x')).code).toBe(0);
    expect(fake.connections).toBe(1);
  });

  test('configure outcomes; anything else is BIRD_UNEXPECTED_REPLY', async () => {
    const replies = ['0003 Reconfigured\n', '0004 Reconfiguration in progress\n', '0005 Reconfiguration already in progress, queueing new config\n', '0006 Reconfiguration ignored, shutting down\n', '0016 Access restricted\n'];
    const { client, fake } = await setup(() => ({ write: replies.shift() ?? '0000 \n' }));
    expect(await client.configure('/etc/bird/bird.conf')).toBe('reconfigured');
    expect(await client.configure()).toBe('in-progress');
    expect(await client.configure()).toBe('queued');
    expect(await failure(client.configure())).toMatchObject({ code: 'BIRD_UNEXPECTED_REPLY', replyCode: 6 });
    expect(await failure(client.configure())).toMatchObject({ code: 'BIRD_UNEXPECTED_REPLY', replyCode: 16 });
    expect(fake.commands[0]).toBe('configure "/etc/bird/bird.conf"');
  });

  test('configure check wants 0020', async () => {
    const { client, fake } = await setup(() => ({ write: '0002-Reading configuration from /etc/bird/bird.conf\n0020 Configuration OK\n' }));
    expect((await client.configureCheck('/etc/bird/bird.conf')).code).toBe(20);
    expect(fake.commands).toEqual(['configure check "/etc/bird/bird.conf"']);
  });

  test('silence is a BIRD_TIMEOUT; the connection is dropped and the next command opens a new one', async () => {
    const { fake, client } = await setup((c) => (c === 'hang' ? 'silence' : { write: '0000 \n' }), { timeoutMs: 150 });
    expect(await failure(client.execute('hang'))).toMatchObject({ code: 'BIRD_TIMEOUT', command: 'hang' });
    expect((await client.execute('show x')).code).toBe(0);
    expect(fake.connections).toBe(2);
  });

  test('a connection cut mid-reply is BIRD_CONNECTION; the next command reconnects', async () => {
    let cut = true;
    const { fake, client } = await setup(() => {
      if (cut) {
        cut = false;
        return { write: '2002-Name       Proto      Table      State  Since         Info\n1002-device1    Device', thenCut: true };
      }
      return { write: '0000 \n' };
    });
    expect(await failure(client.execute('show protocols'))).toMatchObject({ code: 'BIRD_CONNECTION', command: 'show protocols' });
    expect((await client.execute('show protocols')).code).toBe(0);
    expect(fake.connections).toBe(2);
  });

  test('no daemon: BIRD_CONNECTION naming the socket', async () => {
    const client = new BirdClient({ socketPath: '/nonexistent/bird.ctl', timeoutMs: 500 });
    const e = await failure(client.execute('show status'));
    expect(e.code).toBe('BIRD_CONNECTION');
    expect(e.message).toContain('/nonexistent/bird.ctl');
  });

  test('a greeting that is not 0001 is refused', async () => {
    const { client } = await setup(() => ({ write: '0000 \n' }), { greeting: '9999 go away\n' });
    expect(await failure(client.execute('show status'))).toMatchObject({ code: 'BIRD_UNEXPECTED_REPLY', replyCode: 9999 });
  });

  test('garbage from the socket is BIRD_PROTOCOL', async () => {
    const { client } = await setup(() => ({ write: 'HTTP/1.1 400 Bad Request\n' }));
    expect(await failure(client.execute('show status'))).toMatchObject({ code: 'BIRD_PROTOCOL' });
  });

  test('a command with a newline (a second command) is never sent', async () => {
    const { fake, client } = await setup(() => ({ write: '0000 \n' }));
    expect(await failure(client.execute('show status\ndown'))).toMatchObject({ code: 'BIRD_INVALID_COMMAND' });
    expect(await failure(client.configure('/etc/"x'))).toMatchObject({ code: 'BIRD_INVALID_COMMAND' });
    expect(fake.commands).toEqual([]);
  });

  test('spontaneous lines go to onSpontaneous, not into replies', async () => {
    const heard: string[] = [];
    const { client } = await setup(() => ({ write: '+Config timeout expired, starting undo\n0003 Reconfigured\n' }), { onSpontaneous: (t) => heard.push(t) });
    expect(await client.configure()).toBe('reconfigured');
    expect(heard).toEqual(['Config timeout expired, starting undo']);
  });

  test('show protocols is parsed into name, protocol, table, state, info', async () => {
    const { client } = await setup(() => ({
      write:
        '2002-Name       Proto      Table      State  Since         Info\n' +
        '1002-device1    Device     ---        up     21:02:04.508  \n' +
        ' balanced_peer_tor1 BGP        ---        up     21:02:05.101  Established   \n' +
        ' balanced_peer_tor2 BGP        ---        start  21:02:04.508  Active        Socket: Connection refused\n' +
        '0000 \n',
    }));
    expect(await client.protocols()).toEqual([
      { name: 'device1', protocol: 'Device', table: '---', state: 'up', info: '21:02:04.508' },
      { name: 'balanced_peer_tor1', protocol: 'BGP', table: '---', state: 'up', info: '21:02:05.101  Established' },
      { name: 'balanced_peer_tor2', protocol: 'BGP', table: '---', state: 'start', info: '21:02:04.508  Active        Socket: Connection refused' },
    ]);
  });

  test('after close() every call is BIRD_CLOSED', async () => {
    const { client } = await setup(() => ({ write: '0000 \n' }));
    await client.execute('show x');
    client.close();
    expect(await failure(client.execute('show x'))).toMatchObject({ code: 'BIRD_CLOSED' });
  });
});
