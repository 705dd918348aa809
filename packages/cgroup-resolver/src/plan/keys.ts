// Identity strings of map entries, shared by the builder (conflicts) and the planner (diffs).
// Built with join: one flat string each. Maps keep them (the index, the mirror: 100,000s), and a
// template literal's result is a tree of concatenations that a map key keeps whole.
import type { FrontendKind, Protocol } from '../model.js';

/** One frontend map key: (address, port, protocol, kind). */
export function frontendKey(f: { readonly address: string; readonly port: number; readonly protocol: Protocol; readonly kind: FrontendKind }): string {
  return [f.kind, f.protocol, f.address, f.port].join(' ');
}

/** One backend: (address, port). */
export function backendKey(b: { readonly address: string; readonly port: number }): string {
  return [b.address, b.port].join(' ');
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
