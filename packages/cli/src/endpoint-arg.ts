import { parseIp } from '@balanced/netlink';
import { UsageError } from './errors.js';

export interface HostPort {
  readonly address: string;
  readonly port: number | undefined;
}

/**
 * Parses `1.2.3.4`, `1.2.3.4:80`, `fd00::1`, `[fd00::1]:80` into a canonical address and an
 * optional port. (A bare IPv6 address has no port; give one in brackets.)
 */
export function parseHostPort(text: string, what: string): HostPort {
  let host = text;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket !== null) {
    host = bracket[1] ?? '';
    portText = bracket[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const at = text.indexOf(':');
    host = text.slice(0, at);
    portText = text.slice(at + 1);
  }
  let address: string;
  try {
    address = parseIp(host).text;
  } catch {
    throw new UsageError(`${what} ${JSON.stringify(text)}: not an IP address (write IPv6 with a port as [addr]:port)`);
  }
  if (portText === undefined) return { address, port: undefined };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) throw new UsageError(`${what} ${JSON.stringify(text)}: port must be 0..65535`);
  return { address, port };
}

export function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
