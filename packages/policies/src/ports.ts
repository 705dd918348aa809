// `toPorts` lists: each entry {port, protocol, name}; frontend and backend ports are paired
// by name and protocol. With one port on each side the names may be left out.

import { prop, show } from '@balanced/k8s';

import { POLICY_DEFAULTS, PROTOCOLS } from './constants.js';
import type { PolicyPort, PolicyProblem, PortPair, Protocol } from './types.js';

/** A DNS-1123 label, as Service port names are. */
const PORT_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function describePort(p: PolicyPort): string {
  return `${p.name !== undefined ? `${p.name} ` : ''}${p.port}/${p.protocol}`;
}

/** Parse one `toPorts` list at `field`; problems go to `problems`. `required`: at least one entry. */
export function parsePorts(value: unknown, field: string, problems: PolicyProblem[], required: boolean): PolicyPort[] {
  if (value === undefined || value === null) {
    if (required) problems.push({ field, message: 'is missing: list the ports, e.g. [{port: 53, protocol: UDP, name: dns}]' });
    return [];
  }
  if (!Array.isArray(value)) {
    problems.push({ field, message: `must be a list of {port, protocol, name}, got ${show(value)}` });
    return [];
  }
  if (value.length === 0 && required) problems.push({ field, message: 'is empty: list at least one port' });
  const ports: PolicyPort[] = [];
  value.forEach((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    const port = prop(entry, 'port');
    const protocol = prop(entry, 'protocol') ?? POLICY_DEFAULTS.protocol;
    const name = prop(entry, 'name');
    let ok = true;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push({ field: `${at}.port`, message: `must be a port number from 1 to 65535, got ${show(port)}` });
      ok = false;
    }
    const proto = PROTOCOLS.find((p) => p === protocol);
    if (proto === undefined) {
      problems.push({ field: `${at}.protocol`, message: `must be TCP or UDP, got ${show(protocol)}` });
      ok = false;
    }
    if (name !== undefined && name !== null && name !== '' && (typeof name !== 'string' || !PORT_NAME.test(name))) {
      problems.push({ field: `${at}.name`, message: `must be a DNS label (lowercase letters, digits and '-', at most 63, like a Service port name), got ${show(name)}` });
      ok = false;
    }
    if (!ok || proto === undefined) return;
    ports.push(typeof name === 'string' && name !== '' ? { port: port as number, protocol: proto, name } : { port: port as number, protocol: proto });
  });
  checkDuplicates(ports, field, problems);
  return ports;
}

function checkDuplicates(ports: readonly PolicyPort[], field: string, problems: PolicyProblem[]): void {
  const seen = new Set<string>();
  const names = new Set<string>();
  for (const p of ports) {
    const key = `${p.port}/${p.protocol}`;
    if (seen.has(key)) problems.push({ field, message: `lists ${key} twice: remove the duplicate entry` });
    seen.add(key);
    if (p.name !== undefined) {
      const nameKey = `${p.name}/${p.protocol}`;
      if (names.has(nameKey)) problems.push({ field, message: `names two ${p.protocol} ports "${p.name}": give each port its own name` });
      names.add(nameKey);
    }
  }
}

const key = (name: string, protocol: Protocol): string => `${name}/${protocol}`;

/**
 * Pair frontend and backend ports by name and protocol. With exactly one port on each side
 * they pair as they are (names, if both are given, must still agree).
 */
export function pairPorts(
  frontend: readonly PolicyPort[],
  backend: readonly PolicyPort[],
  fields: { frontend: string; backend: string },
): { ok: true; pairs: PortPair[] } | { ok: false; problems: PolicyProblem[] } {
  const problems: PolicyProblem[] = [];
  const [f0] = frontend;
  const [b0] = backend;
  if (frontend.length === 1 && backend.length === 1 && f0 !== undefined && b0 !== undefined) {
    if (f0.protocol !== b0.protocol) {
      problems.push({ field: `${fields.backend}[0].protocol`, message: `is ${b0.protocol} but the frontend port is ${f0.protocol}: ports pair by name and protocol, use the same protocol on both sides` });
    }
    if (f0.name !== undefined && b0.name !== undefined && f0.name !== b0.name) {
      problems.push({ field: `${fields.backend}[0].name`, message: `is "${b0.name}" but the frontend port is named "${f0.name}": ports pair by name and protocol, use the same name (or leave both names out)` });
    }
    return problems.length > 0 ? { ok: false, problems } : { ok: true, pairs: [{ frontend: f0, backend: b0 }] };
  }
  const unnamed = (side: readonly PolicyPort[], field: string): void =>
    side.forEach((p, i) => {
      if (p.name === undefined) problems.push({ field: `${field}[${i}].name`, message: `is missing: with several ports, name every frontend and backend port so they pair by name and protocol (${describePort(p)})` });
    });
  unnamed(frontend, fields.frontend);
  unnamed(backend, fields.backend);
  const backendByKey = new Map<string, PolicyPort>();
  for (const b of backend) if (b.name !== undefined) backendByKey.set(key(b.name, b.protocol), b);
  const frontendKeys = new Set<string>();
  const pairs: PortPair[] = [];
  frontend.forEach((f, i) => {
    if (f.name === undefined) return;
    frontendKeys.add(key(f.name, f.protocol));
    const b = backendByKey.get(key(f.name, f.protocol));
    if (b === undefined) {
      problems.push({ field: `${fields.frontend}[${i}]`, message: `port "${f.name}" (${f.protocol}) has no backend port with the same name and protocol: add one to ${fields.backend} or rename it to match` });
    } else {
      pairs.push({ frontend: f, backend: b });
    }
  });
  backend.forEach((b, i) => {
    if (b.name === undefined || frontendKeys.has(key(b.name, b.protocol))) return;
    problems.push({ field: `${fields.backend}[${i}]`, message: `port "${b.name}" (${b.protocol}) has no frontend port with the same name and protocol: remove it or add a matching port to ${fields.frontend}` });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, pairs };
}

/** With the frontend being every port of a Service, backend ports pair with Service ports by name: several need names. */
export function checkNamedForService(backend: readonly PolicyPort[], field: string, problems: PolicyProblem[]): void {
  if (backend.length <= 1) return;
  backend.forEach((p, i) => {
    if (p.name === undefined) problems.push({ field: `${field}[${i}].name`, message: `is missing: with several backend ports and no frontend toPorts, name each backend port after the Service port it serves (${describePort(p)})` });
  });
}
