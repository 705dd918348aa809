// The control-socket client and the applier against the real BIRD 2 daemon (in a network
// namespace of its own): reply codes, multi-line replies, an include that BIRD rejects, a
// BIRD that does not include our file, a BIRD that is down.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createNetns, deleteNetns, startBird, uniqueName, type BirdDaemon } from '@balanced/testkit';
import { BirdClient, STATIC_PROTOCOL, announcerConfigFromObject, renderBirdConfig } from '../src/index.js';
import { BirdConfigApplier, BirdConfigRejectedError, BirdNotIncludingError } from '../src/bird-applier.js';
import { isBirdError } from '../src/bird-errors.js';
import { missingPrerequisite } from './prerequisites.js';

const skip = missingPrerequisite({ root: true });

describe.each(skip === undefined ? [['real BIRD']] : [])('%s', () => {
  let dir: string;
  let netns: string;
  let bird: BirdDaemon;
  let includeDir: string;
  let outputFile: string;
  const daemons: BirdDaemon[] = [];

  const config = () =>
    announcerConfigFromObject({
      localAsn: 65001,
      cidrs: ['10.96.100.0/24'],
      neighbors: [{ name: 'nobody', address: '10.255.0.2', asn: 65000, connectRetryTime: 1 }],
      outputFile,
      birdSocket: join(dir, 'main.ctl'),
    });

  const mainConfig = (logFile: string, include: boolean): string =>
    ['router id 10.255.0.1;', `log "${logFile}" all;`, 'protocol device { }', ...(include ? [`include "${includeDir}/*.conf";`] : []), ''].join('\n');

  async function start(name: string, include: boolean): Promise<BirdDaemon> {
    const d = await startBird({ netns, name, workDir: dir, config: (log) => mainConfig(log, include) });
    daemons.push(d);
    return d;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vipa-bird-'));
    includeDir = join(dir, 'include');
    mkdirSync(includeDir);
    outputFile = join(includeDir, 'balanced-vips.conf');
    netns = await createNetns(uniqueName('vab'));
    // BIRD starts before the announcer has written anything: the glob include matches nothing.
    bird = await start('main', true);
  });

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    if (netns !== undefined) await deleteNetns(netns);
    rmSync(dir, { recursive: true, force: true });
  });

  test('greeting, status, protocols, and a parse error as a typed error', async () => {
    const client = new BirdClient({ socketPath: bird.controlSocket, timeoutMs: 5000 });
    try {
      const status = await client.status();
      expect(status.version).toMatch(/^BIRD 2\./);
      expect(status.routerId).toBe('10.255.0.1');
      expect(status.message).toBe('Daemon is up and running');
      expect((await client.protocols()).map((p) => p.name)).toEqual(['device1']);
      const e = await client.execute('show bogus').catch((x: unknown) => x);
      expect(isBirdError(e, 'BIRD_REPLY_ERROR') && e.replyCode).toBe(9001);
      // concurrent callers each get their own reply
      const replies = await Promise.all([client.status(), client.protocols(), client.configureCheck(), client.status()]);
      expect(replies[0].version).toBe(status.version);
      expect(replies[2].code).toBe(20);
    } finally {
      client.close();
    }
  });

  test('apply: writes, checks, loads; BIRD runs the VIP routes with their communities; an unchanged file is not reloaded', async () => {
    const client = new BirdClient({ socketPath: bird.controlSocket, timeoutMs: 5000 });
    const applier = new BirdConfigApplier({ bird: client, outputFile, mainConfig: bird.configFile, expectProtocols: [STATIC_PROTOCOL.inet] });
    try {
      const content = renderBirdConfig(config(), [
        { vip: '10.96.100.10', communities: [{ asn: 65000, value: 100 }] },
        { vip: '10.96.100.11', communities: [] },
      ]);
      const result = await applier.apply(content);
      expect(result).toMatchObject({ changed: true, outcome: 'reconfigured' });
      expect(readFileSync(outputFile, 'utf8')).toBe(content);
      const routes = await client.execute('show route all protocol balanced_vips4');
      const text = routes.lines.map((l) => l.text).join('\n');
      expect(text).toMatch(/10\.96\.100\.10\/32\s+blackhole/);
      expect(text).toMatch(/10\.96\.100\.11\/32\s+blackhole/);
      expect(text).toContain('BGP.community: (65000,100)');
      expect((await client.protocols()).map((p) => p.name)).toEqual(expect.arrayContaining(['balanced_vips4', 'balanced_peer_nobody']));
      expect(await applier.apply(content)).toEqual({ changed: false });
    } finally {
      client.close();
    }
  });

  test('the file holds the BGP password: written 0600 (BIRD, same uid, still loads it); an old 0644 file with the same content is tightened', async () => {
    const client = new BirdClient({ socketPath: bird.controlSocket, timeoutMs: 5000 });
    const applier = new BirdConfigApplier({ bird: client, outputFile, mainConfig: bird.configFile, expectProtocols: [STATIC_PROTOCOL.inet] });
    const secret = announcerConfigFromObject({
      localAsn: 65001,
      cidrs: ['10.96.100.0/24'],
      neighbors: [{ name: 'nobody', address: '10.255.0.2', asn: 65000, connectRetryTime: 1, password: 's3cret-md5' }],
      outputFile,
      birdSocket: join(dir, 'main.ctl'),
    });
    try {
      const content = renderBirdConfig(secret, [{ vip: '10.96.100.14', communities: [] }]);
      expect(content).toContain('s3cret-md5');
      expect(await applier.apply(content)).toMatchObject({ changed: true });
      expect((statSync(outputFile).mode & 0o777).toString(8)).toBe('600');
      // An announcer of an older version left the same content readable by everyone.
      chmodSync(outputFile, 0o644);
      const restarted = new BirdConfigApplier({ bird: client, outputFile, mainConfig: bird.configFile, expectProtocols: [STATIC_PROTOCOL.inet] });
      await restarted.apply(content);
      expect((statSync(outputFile).mode & 0o777).toString(8)).toBe('600');
      const routes = await client.execute('show route protocol balanced_vips4');
      expect(routes.lines.map((l) => l.text).join('\n')).toContain('10.96.100.14/32');
    } finally {
      client.close();
    }
  });

  test('a file BIRD rejects: BirdConfigRejectedError with BIRD’s message; the previous file is back and BIRD still runs it', async () => {
    const client = new BirdClient({ socketPath: bird.controlSocket, timeoutMs: 5000 });
    const applier = new BirdConfigApplier({ bird: client, outputFile, mainConfig: bird.configFile });
    try {
      const good = renderBirdConfig(config(), [{ vip: '10.96.100.12', communities: [] }]);
      await applier.apply(good);
      const broken = 'protocol static balanced_vips4 { ipv4; route 10.96.100.13/32 blackhole }\n';
      const e = await applier.apply(broken).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BirdConfigRejectedError);
      const rejected = e as BirdConfigRejectedError;
      expect(rejected.stage).toBe('check');
      expect(rejected.cause.replyCode).toBe(8002);
      expect(rejected.message).toContain(`${outputFile}:1:`);
      expect(readFileSync(outputFile, 'utf8')).toBe(good);
      const routes = await client.execute('show route protocol balanced_vips4');
      expect(routes.lines.map((l) => l.text).join('\n')).toContain('10.96.100.12/32');
    } finally {
      client.close();
    }
  });

  test('a BIRD whose main config does not include the file: BirdNotIncludingError', async () => {
    const other = await start('other', false);
    const client = new BirdClient({ socketPath: other.controlSocket, timeoutMs: 5000 });
    const applier = new BirdConfigApplier({ bird: client, outputFile: join(dir, 'not-included.conf'), expectProtocols: [STATIC_PROTOCOL.inet] });
    try {
      const e = await applier.apply(renderBirdConfig(config(), [])).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BirdNotIncludingError);
      expect((e as Error).message).toContain('balanced_vips4');
    } finally {
      client.close();
      await other.stop();
    }
  });

  test('BIRD down: BIRD_CONNECTION, and the new file stays for BIRD to read when it comes back', async () => {
    const down = await start('down', true);
    const client = new BirdClient({ socketPath: down.controlSocket, timeoutMs: 5000 });
    const applier = new BirdConfigApplier({ bird: client, outputFile, mainConfig: down.configFile, expectProtocols: [STATIC_PROTOCOL.inet] });
    try {
      await down.stop();
      const withdrawn = renderBirdConfig(config(), []);
      const e = await applier.apply(withdrawn).catch((x: unknown) => x);
      expect(isBirdError(e, 'BIRD_CONNECTION')).toBe(true);
      expect(readFileSync(outputFile, 'utf8')).toBe(withdrawn);
      const again = await start('down', true);
      expect(await applier.apply(withdrawn)).toMatchObject({ changed: true });
      const routes = await client.execute('show route protocol balanced_vips4');
      expect(routes.lines.filter((l) => l.code === 1007)).toEqual([]);
      await again.stop();
      // nothing to load: no contact with BIRD, unless asked to verify (the periodic resync)
      expect(await applier.apply(withdrawn)).toEqual({ changed: false });
      const verify = await applier.apply(withdrawn, { verify: true }).catch((x: unknown) => x);
      expect(isBirdError(verify, 'BIRD_CONNECTION')).toBe(true);
    } finally {
      client.close();
    }
  });

  test('configure with the main file that BIRD was started with, by path', async () => {
    const client = new BirdClient({ socketPath: bird.controlSocket, timeoutMs: 5000 });
    try {
      expect((await client.configureCheck(bird.configFile)).lines[0]?.text).toBe(`Reading configuration from ${bird.configFile}`);
      expect(await client.configure(bird.configFile)).toBe('reconfigured');
    } finally {
      client.close();
    }
  });
});
