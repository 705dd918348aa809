// The lab of announcer.integration.test.ts: a router network namespace peering over veths with
// two director namespaces, a real BIRD 2 in each, running the example configurations of
// example/bird/; on the router, `merge paths on` installs one kernel route to the VIP with a
// next hop per director that announces it (ECMP).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createNetns, createVethPair, findRepoRoot, parseIpJsonRoutes, runChecked, startBird, uniqueName, type BirdDaemon } from '@balanced/testkit';
import { announcerConfigFromObject, type AnnouncerConfig } from '../src/index.js';

/** As in example/bird/router.conf. */
export const ROUTER_ASN = 65000;
export const DIRECTOR_ASN = 65001;
/** Session timers of the directors' side, as example/bird/router.conf has them. BFD detects a dead peer in ~300 ms. */
export const SESSION = { holdTime: 9, keepaliveTime: 3, connectRetryTime: 1, connectDelayTime: 1, errorWaitTime: { min: 1, max: 5 } } as const;
export const BFD = { minRxMs: 100, minTxMs: 100, multiplier: 3 } as const;

export interface DirectorNode {
  readonly index: number;
  readonly netns: string;
  /** The director's address on its link to the router (the next hop the router installs). */
  readonly address: string;
  readonly routerAddress: string;
  readonly asn: number;
  /** Directory the main BIRD config includes (`*.conf`). */
  readonly includeDir: string;
  bird: BirdDaemon;
}

export interface RouterNode {
  readonly netns: string;
  readonly bird: BirdDaemon;
}

/** example/bird/<name>, with its `log syslog all;` pointed at a file (+ state tracing) and any other replacements. */
export function exampleBirdConfig(name: 'router.conf' | 'director.conf', logFile: string, replace: readonly [string, string][] = []): string {
  let text = readFileSync(join(findRepoRoot(), 'example', 'bird', name), 'utf8');
  for (const [from, to] of [['log syslog all;', `log "${logFile}" all;\ndebug protocols { states, events };`] as const, ...replace]) {
    if (!text.includes(from)) throw new Error(`example/bird/${name} no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

/** The router runs example/bird/router.conf as it is (its addresses are the lab's). */
export function routerBirdConfig(logFile: string): string {
  return exampleBirdConfig('router.conf', logFile);
}

/** A director runs example/bird/director.conf, including its own directory instead of /run/balanced/bird. */
export function directorBirdConfig(d: Pick<DirectorNode, 'includeDir'>, logFile: string): string {
  return exampleBirdConfig('director.conf', logFile, [['include "/run/balanced/bird/*.conf";', `include "${d.includeDir}/*.conf";`]]);
}

export async function createLab(workDir: string, namespaces: string[]): Promise<{ router: RouterNode; directors: DirectorNode[] }> {
  const routerNs = await createNetns(uniqueName('var'));
  namespaces.push(routerNs);
  const directors: DirectorNode[] = [];
  for (const index of [1, 2]) {
    const netns = await createNetns(uniqueName(`va${index}`));
    namespaces.push(netns);
    const routerAddress = `10.0.${index}.1`;
    const address = `10.0.${index}.2`;
    await createVethPair({ netns: routerNs, address: `${routerAddress}/30` }, { netns, address: `${address}/30` });
    const includeDir = join(workDir, `d${index}`);
    mkdirSync(includeDir);
    directors.push({ index, netns, address, routerAddress, asn: DIRECTOR_ASN, includeDir, bird: undefined as unknown as BirdDaemon });
  }
  const router: RouterNode = { netns: routerNs, bird: await startBird({ netns: routerNs, name: 'router', workDir, config: (log) => routerBirdConfig(log) }) };
  for (const d of directors) {
    d.bird = await startBird({ netns: d.netns, name: `director${d.index}`, workDir, config: (log) => directorBirdConfig(d, log) });
  }
  return { router, directors };
}

/** The next hops of BIRD's kernel route to `vip`/32 in the router (sorted; [] = no route). */
export async function routerNexthops(router: RouterNode, vip: string): Promise<string[]> {
  const json = (await runChecked('ip', ['-n', router.netns, '-j', 'route', 'show', `${vip}/32`])).trim();
  return [...(parseIpJsonRoutes(json).find((r) => r.protocol === 'bird')?.nexthops ?? [])];
}

/**
 * Polls the router's kernel table (every 10 ms) until the route to `vip` has exactly these next
 * hops; resolves with the milliseconds since `since` (the moment of the event that should
 * cause the change).
 */
export async function waitForNexthops(router: RouterNode, vip: string, expected: readonly string[], since: number, timeoutMs = 30_000): Promise<number> {
  const want = [...expected].sort().join(',');
  for (;;) {
    const seen = (await routerNexthops(router, vip)).join(',');
    if (seen === want) return Date.now() - since;
    if (Date.now() - since > timeoutMs) throw new Error(`router: route to ${vip}/32 has next hops [${seen}], want [${want}]`);
    await sleep(10);
  }
}

/** A stand-in for one director's ipvs-controller /readyz that the test flips. */
export interface ToggleReadyz {
  readonly url: string;
  ready: boolean;
  close(): Promise<void>;
}

export async function startToggleReadyz(): Promise<ToggleReadyz> {
  const state = { ready: true };
  const server: Server = createServer((_req, res) => {
    res.statusCode = state.ready ? 200 : 503;
    res.end(state.ready ? 'ok\n' : 'not ready: kernel programmed: false\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
  return {
    url,
    get ready() {
      return state.ready;
    },
    set ready(value: boolean) {
      state.ready = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The announcer config of director `d` in this lab: one BGP session (with BFD) to the router,
 * its include file and its BIRD's socket and config. `cidrs` left out: the VIP ranges come from
 * the VipPools.
 */
export function directorAnnouncerConfig(d: DirectorNode, cidrs?: readonly string[]): AnnouncerConfig {
  return announcerConfigFromObject({
    localAsn: d.asn,
    ...(cidrs === undefined ? {} : { cidrs }),
    neighbors: [{ name: 'router', address: d.routerAddress, asn: ROUTER_ASN, sourceAddress: d.address, bfd: true, ...SESSION }],
    bfd: BFD,
    outputFile: join(d.includeDir, 'balanced-vips.conf'),
    birdSocket: d.bird.controlSocket,
    birdConfig: d.bird.configFile,
  });
}

/** A debug logger whose lines (each with `prefix`) go to `lines`, for a failure message. */
export function loggerInto(lines: string[], prefix = ''): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(`${prefix}${chunk.toString('utf8').trimEnd()}`);
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}
