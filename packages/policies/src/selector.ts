// Label selectors in policies: metav1.LabelSelector, parsed by the one parser balanced has
// (@balanced/vip-allocator's); problems get a hint on what to write.

import { isEmptySelector, parseLabelSelector, type LabelSelector } from '@balanced/vip-allocator';

import type { PolicyProblem } from './types.js';

/** Whether labels (a pod's, a node's) match a policy's selector: the same matcher the parser's selectors are written for. */
export { matchesSelector, type LabelSelector } from '@balanced/vip-allocator';

const HINT = 'write a label selector such as {matchLabels: {app: node-local-dns}}';

export function readSelector(value: unknown, field: string, problems: PolicyProblem[], options: { required: boolean }): LabelSelector | undefined {
  if (value === undefined || value === null) {
    if (options.required) problems.push({ field, message: `is missing: ${HINT} (it selects pods in every namespace)` });
    return undefined;
  }
  const parsed = parseLabelSelector(value, field);
  if (!parsed.ok) {
    for (const p of parsed.problems) problems.push({ field: p.field, message: `${p.message}: ${HINT}` });
    return undefined;
  }
  if (options.required && isEmptySelector(parsed.selector)) {
    problems.push({ field, message: `is empty and would select every pod in every namespace: add matchLabels or matchExpressions` });
    return undefined;
  }
  return parsed.selector;
}
