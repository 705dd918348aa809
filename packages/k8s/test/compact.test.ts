import { expect, it } from '@jest/globals';
import fc from 'fast-check';
import { compactObject } from '../src/compact.js';

it('drops undefined properties and metadata.managedFields, keeps everything else (Dates too)', () => {
  const created = new Date('2026-01-01T00:00:00Z');
  const input = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'n', uid: undefined, creationTimestamp: created, managedFields: [{ manager: 'kubectl' }], labels: { a: 'b' } },
    spec: { ports: [{ port: 80, name: undefined, targetPort: 80 }], selector: undefined },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.1', hostname: undefined }] } },
  };
  const out = compactObject(input);
  expect(out).toEqual({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'n', creationTimestamp: created, labels: { a: 'b' } },
    spec: { ports: [{ port: 80, targetPort: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
  });
  expect(Object.keys(out.metadata)).not.toContain('uid');
  expect(out.metadata.creationTimestamp).toBe(created);
  expect(input.metadata.managedFields).toHaveLength(1); // the input is not modified
});

it('gives the same JSON as the input (no managedFields), with no undefined property left in any object', () => {
  // (Array elements stay as they are: JSON writes an undefined element as null either way.)
  const hasUndefined = (v: unknown): boolean =>
    Array.isArray(v) ? v.some(hasUndefined) : v !== null && typeof v === 'object' && !(v instanceof Date) && Object.values(v).some((x) => x === undefined || hasUndefined(x));
  fc.assert(
    fc.property(fc.object({ values: [fc.constant(undefined), fc.integer(), fc.string(), fc.boolean(), fc.constant(null)], maxDepth: 3 }), (value) => {
      const out = compactObject(value);
      expect(JSON.stringify(out)).toBe(JSON.stringify(value));
      expect(hasUndefined(out)).toBe(false);
    }),
    { numRuns: 500 },
  );
  // a JSON key "__proto__" (from a watch event's JSON.parse) stays an own property
  const parsed = JSON.parse('{"metadata":{"name":"x","labels":{"__proto__":"y"}}}') as { metadata: { labels: object } };
  const out = compactObject(parsed);
  expect(Object.prototype.hasOwnProperty.call(out.metadata.labels, '__proto__')).toBe(true);
  expect(Object.getPrototypeOf(out.metadata.labels)).toBe(Object.prototype);
  expect(JSON.stringify(out)).toBe(JSON.stringify(parsed));
});

it('copies only what changes: parsed JSON with nothing to drop comes back itself, a class instance as a plain copy', () => {
  const parsed = JSON.parse('{"metadata":{"name":"x","labels":{"a":"b"}},"spec":{"ports":[{"port":80}]},"status":{"addresses":["10.0.0.1"]}}') as Record<string, Record<string, unknown>>;
  expect(compactObject(parsed)).toBe(parsed);
  const withManaged = JSON.parse('{"metadata":{"name":"x","managedFields":[{}],"labels":{"a":"b"}},"spec":{"ports":[{"port":80}]}}') as Record<string, Record<string, unknown>>;
  const out = compactObject(withManaged);
  expect(out).not.toBe(withManaged);
  expect(out.metadata).toStrictEqual({ name: 'x', labels: { a: 'b' } });
  expect(out.metadata?.labels).toBe(withManaged.metadata?.labels); // unchanged parts are shared
  expect(out.spec).toBe(withManaged.spec);
  class Port {
    port = 80;
    name: string | undefined = undefined;
  }
  const typed = compactObject({ ports: [new Port()] });
  expect(Object.getPrototypeOf(typed.ports[0])).toBe(Object.prototype);
  expect(typed.ports[0]).toStrictEqual({ port: 80 });
});
