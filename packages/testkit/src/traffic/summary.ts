import type { TcpExchange, UdpExchange } from './types.js';

/** How many exchanges each pod answered (pods in name order); failures are not counted. */
export function podShares(exchanges: readonly (TcpExchange | UdpExchange)[]): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const e of exchanges) if (e.ok) shares[e.server.pod] = (shares[e.server.pod] ?? 0) + 1;
  return Object.fromEntries(Object.entries(shares).sort(([a], [b]) => a.localeCompare(b)));
}

/** Failed exchanges by error text. */
export function failureCounts(exchanges: readonly (TcpExchange | UdpExchange)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of exchanges) if (!e.ok) counts[e.error] = (counts[e.error] ?? 0) + 1;
  return counts;
}

/** Exchanges that succeeded. */
export function succeeded<T extends TcpExchange | UdpExchange>(exchanges: readonly T[]): Extract<T, { ok: true }>[] {
  return exchanges.filter((e): e is Extract<T, { ok: true }> => e.ok);
}
