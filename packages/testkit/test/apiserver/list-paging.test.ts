// Lists page like etcd: objects in byte order of namespace/name, and limit + continue hand out
// each object exactly once whatever the page size, also when writes land between pages (a new
// object after the last page's key is seen; one before it is not, as with a real API server).
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { RestApi } from '../../src/apiserver/rest.js';
import { ResourceRegistry } from '../../src/apiserver/resources.js';
import { ObjectStore } from '../../src/apiserver/store.js';
import type { KubeObject } from '../../src/apiserver/types.js';

const dnsLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/);
const dnsName = fc.array(dnsLabel, { minLength: 1, maxLength: 2 }).map((parts) => parts.join('.'));
const objects = fc.uniqueArray(fc.record({ namespace: dnsLabel, name: dnsName }), { selector: (o) => `${o.namespace}/${o.name}`, maxLength: 40 });

function storeWith(list: readonly { namespace: string; name: string }[]): { store: ObjectStore; rest: RestApi } {
  const registry = new ResourceRegistry();
  const store = new ObjectStore(registry, 1000);
  for (const o of list) store.put('configmaps', { metadata: { namespace: o.namespace, name: o.name } });
  return { store, rest: new RestApi(store) };
}

const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

describe('list order and paging', () => {
  test('one list is in byte order of namespace/name; pages of any size add up to it, each object once', () => {
    fc.assert(
      fc.property(objects, fc.integer({ min: 1, max: 45 }), (list, limit) => {
        const { store, rest } = storeWith(list);
        const type = store.registry.resolve('configmaps');
        const whole = rest.list(type, undefined, {}).items.map(keyOf);
        expect(whole).toEqual(list.map((o) => `${o.namespace}/${o.name}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        const paged: string[] = [];
        let token: string | undefined;
        do {
          const page = rest.list(type, undefined, { limit: String(limit), ...(token === undefined ? {} : { continue: token }) });
          expect(page.items.length).toBeLessThanOrEqual(limit);
          paged.push(...page.items.map(keyOf));
          token = page.metadata.continue;
        } while (token !== undefined);
        expect(paged).toEqual(whole);
      }),
    );
  });

  test('a write between pages: the next page and the next list see the store as it is then', () => {
    const { store, rest } = storeWith([
      { namespace: 'a', name: 'x1' },
      { namespace: 'a', name: 'x2' },
      { namespace: 'b', name: 'y1' },
    ]);
    const type = store.registry.resolve('configmaps');
    const first = rest.list(type, undefined, { limit: '2' });
    expect(first.items.map(keyOf)).toEqual(['a/x1', 'a/x2']);
    store.put('configmaps', { metadata: { namespace: 'a', name: 'x0' } }); // before the page boundary: not on a later page
    store.put('configmaps', { metadata: { namespace: 'b', name: 'y0' } }); // after it: on the next page
    store.delete('configmaps', 'y1', 'b');
    const second = rest.list(type, undefined, { limit: '2', continue: first.metadata.continue as string });
    expect(second.items.map(keyOf)).toEqual(['b/y0']);
    expect(rest.list(type, undefined, {}).items.map(keyOf)).toEqual(['a/x0', 'a/x1', 'a/x2', 'b/y0']);
    expect(rest.list(type, 'a', {}).items.map(keyOf)).toEqual(['a/x0', 'a/x1', 'a/x2']);
  });
});
