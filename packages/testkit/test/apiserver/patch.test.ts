// The patch documents on their own: RFC 7386 merge patch and RFC 6902 JSON patch.

import { describe, expect, test } from '@jest/globals';

import { jsonPatch, mergePatch } from '../../src/apiserver/index.js';

describe('merge patch (RFC 7386)', () => {
  test.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: ['b'] }, { a: ['c', 'd'] }, { a: ['c', 'd'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { labels: { 'a/b': 'x' } }, list: [1, 2, 3] };

  test('add, remove, replace, move, copy, test; the input is not modified', () => {
    const out = jsonPatch(doc, [
      { op: 'add', path: '/list/1', value: 9 },
      { op: 'remove', path: '/list/0' },
      { op: 'replace', path: '/metadata/labels/a~1b', value: 'y' },
      { op: 'copy', from: '/metadata/labels', path: '/copied' },
      { op: 'move', from: '/copied', path: '/moved' },
      { op: 'test', path: '/list', value: [9, 2, 3] },
    ]);
    expect(out).toEqual({ metadata: { labels: { 'a/b': 'y' } }, list: [9, 2, 3], moved: { 'a/b': 'y' } });
    expect(doc.list).toEqual([1, 2, 3]);
  });

  test.each([
    [[{ op: 'test', path: '/list/0', value: 2 }], /test operation failed/],
    [[{ op: 'remove', path: '/missing' }], /nonexistent/],
    [[{ op: 'replace', path: '/nope/x', value: 1 }], /does not exist/],
    [[{ op: 'add', path: '/list/7', value: 1 }], /out of range/],
    [[{ op: 'frobnicate', path: '/list' }], /unknown operation/],
    [{ op: 'add' }, /JSON array/],
  ])('%j fails', (ops, message) => {
    expect(() => jsonPatch(doc, ops)).toThrow(message);
  });
});
