// Label and field selectors with the API server's syntax and semantics.
//   labels: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, `a>1`, `a<1`
//   fields: `path=value`, `path==value`, `path!=value`, only for the kind's field labels
// Terms are ANDed. `!=` and `notin` also match objects without the label.

import { badRequest } from './status.js';
import type { KubeObject } from './types.js';
import { isRecord } from './types.js';

export type LabelRequirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: readonly string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type LabelSelector = readonly LabelRequirement[];

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Split on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim());
}

function checkKey(key: string, selector: string): string {
  if (!KEY.test(key)) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  }
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!VALUE.test(value)) {
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${selector}"`);
  }
  return value;
}

function parseTerm(term: string, selector: string): LabelRequirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (set !== null) {
    const [, key = '', op, list = ''] = set;
    const values = list.split(',').map((v) => checkValue(v.trim(), selector));
    return { key: checkKey(key, selector), op: op === 'in' ? 'in' : 'notin', values };
  }
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$/.exec(term);
  if (cmp !== null) {
    const [, key = '', op, value = ''] = cmp;
    checkKey(key, selector);
    if (op === '<' || op === '>') {
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) {
        throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in selector "${selector}"`);
      }
      return { key, op: op === '<' ? 'lt' : 'gt', value: n };
    }
    return { key, op: op === '!=' ? 'notin' : 'in', values: [checkValue(value, selector)] };
  }
  if (term.startsWith('!')) {
    return { key: checkKey(term.slice(1).trim(), selector), op: 'notexists' };
  }
  return { key: checkKey(term, selector), op: 'exists' };
}

export function parseLabelSelector(selector: string | undefined): LabelSelector {
  if (selector === undefined || selector.trim() === '') {
    return [];
  }
  return splitTerms(selector).map((term) => {
    if (term === '') {
      throw badRequest(`unable to parse requirement: empty term in selector "${selector}"`);
    }
    return parseTerm(term, selector);
  });
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  return selector.every((req) => {
    const value = labels?.[req.key];
    switch (req.op) {
      case 'exists':
        return value !== undefined;
      case 'notexists':
        return value === undefined;
      case 'in':
        return value !== undefined && req.values.includes(value);
      case 'notin':
        return value === undefined || !req.values.includes(value);
      case 'gt':
      case 'lt': {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        const n = Number(value);
        return req.op === 'gt' ? n > req.value : n < req.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  negate: boolean;
  value: string;
}

export type FieldSelector = readonly FieldRequirement[];

const ALWAYS_FIELDS = ['metadata.name', 'metadata.namespace'];

export function parseFieldSelector(selector: string | undefined, fieldLabels: readonly string[]): FieldSelector {
  if (selector === undefined || selector.trim() === '') {
    return [];
  }
  return selector.split(',').map((raw) => {
    const term = raw.trim();
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (m === null) {
      throw badRequest(`invalid field selector: '${term}'`);
    }
    const [, field = '', op, value = ''] = m;
    if (!ALWAYS_FIELDS.includes(field) && !fieldLabels.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return { field, negate: op === '!=', value: value.trim() };
  });
}

/** The value a field label has on an object: '' when absent, as the server's field sets do. */
export function fieldValue(obj: KubeObject, field: string): string {
  // `source` on core Events is source.component.
  const path = field === 'source' ? ['source', 'component'] : field.split('.');
  let cur: unknown = obj;
  for (const part of path) {
    if (!isRecord(cur)) return '';
    cur = cur[part];
  }
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return '';
}

export function matchesFields(selector: FieldSelector, obj: KubeObject): boolean {
  return selector.every((req) => (fieldValue(obj, req.field) === req.value) !== req.negate);
}

/** Both selectors of a list or watch request. */
export interface ObjectFilter {
  labels: LabelSelector;
  fields: FieldSelector;
}

export function parseFilter(
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
  fieldLabels: readonly string[],
): ObjectFilter {
  return { labels: parseLabelSelector(labelSelector), fields: parseFieldSelector(fieldSelector, fieldLabels) };
}

export function matchesFilter(filter: ObjectFilter, obj: KubeObject): boolean {
  return matchesLabels(filter.labels, obj.metadata?.labels) && matchesFields(filter.fields, obj);
}
