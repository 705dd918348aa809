// status's announcer part against a real BIRD 2 in a test-made network namespace, running
// the config `balanced bird render` writes (included from a small main config, as a director
// has it). Its one BGP neighbour does not exist (nothing leaves the namespace): the session
// stays down, and the VIP is still in the static protocol BIRD would export.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createNetns, deleteNetns, startBird, type BirdDaemon } from '@balanced/testkit';
import { ANNOUNCER, CLUSTER, json, runBalanced } from './run-cli.js';

let netns: string | undefined;
let dir: string | undefined;
let bird: BirdDaemon | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'balanced-cli-bird-'));
  const rendered = await runBalanced(['bird', 'render', '--config', ANNOUNCER, '-f', CLUSTER]);
  expect(rendered.code).toBe(0);
  const include = join(dir, 'vips.conf');
  await writeFile(include, rendered.stdout);
  netns = await createNetns();
  const ns = netns;
  bird = await startBird({ netns: ns, name: 'director', workDir: dir, config: (log) => `log "${log}" all;\nprotocol device {}\ninclude "${include}";\n` });
}, 60_000);

afterAll(async () => {
  await bird?.stop();
  if (netns !== undefined) await deleteNetns(netns);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('status --component bird', () => {
  it('shows what BIRD announces and the state of its BGP sessions', async () => {
    const socket = bird?.controlSocket ?? '';
    const [j, text] = await Promise.all([
      runBalanced(['status', '--component', 'bird', '--bird-socket', socket, '--json']),
      runBalanced(['status', '--component', 'bird', '--bird-socket', socket]),
    ]);
    expect(j.code).toBe(0);
    type Bird = { bird: { socket: string; bird: { version: string; routerId: string }; announced: string[]; peers: { name: string; protocol: string; state: string }[] } };
    const out = json<Bird>(j).bird;
    expect(out.bird.version).toMatch(/^BIRD 2\./);
    expect(out.bird.routerId).toBe('192.168.50.1');
    expect(out.announced).toEqual(['10.96.200.1/32']);
    expect(out.peers).toEqual([expect.objectContaining({ name: 'balanced_peer_tor1', protocol: 'BGP' })]);
    expect(out.peers[0]?.state).not.toBe('up');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/1 VIPs announced\n {2}10\.96\.200\.1\/32\n/);
  }, 60_000);
});
