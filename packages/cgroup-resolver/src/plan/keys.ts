// Identity strings of map entries, shared by the builder (conflicts) and the planner (diffs).
// Built with join: one flat string each. Maps keep them (the index, the mirror: 100,000s), and a
// template literal's result is a tree of concatenations that a map key keeps whole.
import { dottedQuadValue } from '../dotted-quad.js';
import type { FrontendKind, Protocol } from '../model.js';

/** One frontend map key: (address, port, protocol, kind). */
export function frontendKey(f: { readonly address: string; readonly port: number; readonly protocol: Protocol; readonly kind: FrontendKind }): string {
  return [f.kind, f.protocol, f.address, f.port].join(' ');
}

/** One backend: (address, port). */
export function backendKey(b: { readonly address: string; readonly port: number }): string {
  return [b.address, b.port].join(' ');
}

/** A backend's identity in a map: see {@link backendIndexKey}. */
export type BackendIndexKey = number | string;

/**
 * A backend's (address, port) as a map key, one-to-one with {@link backendKey}: quad × 65536 +
 * port for a dotted quad (canonical: no other text has its value) and a u16 port, else
 * backendKey. The planner and the mirror key 100,000s of backends per pass: no string built.
 */
export function backendIndexKey(address: string, port: number): BackendIndexKey {
  const quad = dottedQuadValue(address);
  return quad >= 0 && Number.isInteger(port) && port >= 0 && port <= 0xffff ? quad * 65536 + port : backendKey({ address, port });
}

/** Backends in the code-unit order of their {@link backendKey}, without building it. */
export function compareBackendKeys(a: { readonly address: string; readonly port: number }, b: { readonly address: string; readonly port: number }): number {
  const x = a.address;
  const y = b.address;
  if (x === y) return a.port === b.port ? 0 : cmp(String(a.port), String(b.port));
  // Address order is key order unless one address is a prefix of the other and the longer one
  // goes on with a character not above the key's space (never in an address text).
  if (x < y) return y.charCodeAt(x.length) <= 0x20 && y.startsWith(x) ? cmp(backendKey(a), backendKey(b)) : -1;
  return x.charCodeAt(y.length) <= 0x20 && x.startsWith(y) ? cmp(backendKey(a), backendKey(b)) : 1;
}

/** Frontends in one canonical order: address, port, protocol, kind (code-unit order). */
export function compareFrontends(
  a: { readonly address: string; readonly port: number; readonly protocol: Protocol; readonly kind: FrontendKind },
  b: { readonly address: string; readonly port: number; readonly protocol: Protocol; readonly kind: FrontendKind },
): number {
  return cmp(a.address, b.address) || a.port - b.port || cmp(a.protocol, b.protocol) || cmp(a.kind, b.kind);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
