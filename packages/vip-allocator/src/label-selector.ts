// metav1.LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist),
// all terms ANDed. An empty selector matches everything.

import { prop } from './read.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

export interface SelectorProblem {
  readonly field: string;
  readonly message: string;
}

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Parse a LabelSelector; `field` names where it is, for the error messages. */
export function parseLabelSelector(value: unknown, field: string): { ok: true; selector: LabelSelector } | { ok: false; problems: SelectorProblem[] } {
  const problems: SelectorProblem[] = [];
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    return { ok: false, problems: [{ field, message: 'must be a label selector object (matchLabels, matchExpressions)' }] };
  }
  const matchLabels: Record<string, string> = {};
  const labels = prop(value, 'matchLabels');
  if (labels !== undefined && labels !== null) {
    if (typeof labels !== 'object' || Array.isArray(labels)) {
      problems.push({ field: `${field}.matchLabels`, message: 'must be a map of label keys to values' });
    } else {
      for (const [k, v] of Object.entries(labels)) {
        if (typeof v !== 'string') problems.push({ field: `${field}.matchLabels[${JSON.stringify(k)}]`, message: 'must be a string' });
        else matchLabels[k] = v;
      }
    }
  }
  const matchExpressions: SelectorRequirement[] = [];
  const expressions = prop(value, 'matchExpressions');
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions)) {
      problems.push({ field: `${field}.matchExpressions`, message: 'must be a list' });
    } else {
      expressions.forEach((e: unknown, i) => {
        const at = `${field}.matchExpressions[${i}]`;
        const key = prop(e, 'key');
        const operator = prop(e, 'operator');
        const values = prop(e, 'values') ?? [];
        if (typeof key !== 'string' || key === '') {
          problems.push({ field: `${at}.key`, message: 'must be a non-empty label key' });
          return;
        }
        const op = OPERATORS.find((o) => o === operator);
        if (op === undefined) {
          problems.push({ field: `${at}.operator`, message: `must be one of ${OPERATORS.join(', ')}, got ${JSON.stringify(operator)}` });
          return;
        }
        if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
          problems.push({ field: `${at}.values`, message: 'must be a list of strings' });
          return;
        }
        const strings = values as string[];
        if ((op === 'In' || op === 'NotIn') && strings.length === 0) {
          problems.push({ field: `${at}.values`, message: `must not be empty for ${op}` });
          return;
        }
        if ((op === 'Exists' || op === 'DoesNotExist') && strings.length > 0) {
          problems.push({ field: `${at}.values`, message: `must be empty for ${op}` });
          return;
        }
        matchExpressions.push({ key, operator: op, values: strings });
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, selector: { matchLabels, matchExpressions } };
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [k, v] of Object.entries(selector.matchLabels)) {
    if (!has(k) || labels[k] !== v) return false;
  }
  for (const r of selector.matchExpressions) {
    const present = has(r.key);
    switch (r.operator) {
      case 'In':
        if (!present || !r.values.includes(labels[r.key] ?? '')) return false;
        break;
      case 'NotIn':
        if (present && r.values.includes(labels[r.key] ?? '')) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}
