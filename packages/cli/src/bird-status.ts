import { BirdClient, STATIC_PROTOCOL, PEER_PREFIX, type BirdProtocolStatus, type BirdStatus } from '@balanced/vip-announcer';
import { CliError, messageOf } from './errors.js';

export interface AnnouncerStatus {
  readonly bird: BirdStatus;
  /** VIP prefixes in the announcer's static protocols: what BIRD exports to its peers. */
  readonly announced: readonly string[];
  /** The announcer's BGP sessions (protocols named balanced_peer_*). */
  readonly peers: readonly BirdProtocolStatus[];
  /** Every protocol, for the curious. */
  readonly protocols: readonly BirdProtocolStatus[];
}

const PREFIX_LINE = /^([0-9a-fA-F.:]+\/\d+)\s/;

/** Asks BIRD over its control socket (the announcer's BirdClient) what it announces. */
export async function readAnnouncer(socketPath: string, timeoutMs: number): Promise<AnnouncerStatus> {
  const bird = new BirdClient({ socketPath, timeoutMs });
  try {
    const status = await bird.status();
    const protocols = await bird.protocols();
    const announced: string[] = [];
    for (const name of Object.values(STATIC_PROTOCOL)) {
      if (!protocols.some((p) => p.name === name)) continue;
      const reply = await bird.execute(`show route protocol ${name}`);
      for (const line of reply.lines) {
        const m = PREFIX_LINE.exec(line.text.trim());
        if (m?.[1] !== undefined) announced.push(m[1]);
      }
    }
    return { bird: status, announced, peers: protocols.filter((p) => p.protocol === 'BGP' && p.name.startsWith(PEER_PREFIX)), protocols };
  } catch (e) {
    throw new CliError(`BIRD at ${socketPath}: ${messageOf(e)}`);
  } finally {
    bird.close();
  }
}
