// The root eslint.config.js enforces the package boundaries (shared/STYLE.md (b)12): each rule
// is checked here against a line that breaks it, so a config change that silently stops one
// (a glob that no longer matches, a resolver that stops resolving) fails this test. Kept in
// testkit's tests because jest's unit project does not pick up the root test/ folder. The
// workspace must be built (scripts/setup.sh): workspace imports resolve through dist/.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { findRepoRoot } from '../src/index.js';

const eslint = new ESLint({ cwd: findRepoRoot() });

async function rulesBroken(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

const src = 'packages/ipvs/src/boundary-probe.ts';
const test = 'packages/ipvs/test/boundary-probe.test.ts';

describe('eslint.config.js boundary rules', () => {
  it('passes code that keeps to them', async () => {
    expect(await rulesBroken(src, "import type { Link } from '@balanced/netlink';\nimport { Errno } from '@balanced/netlink';\nexport const f = (l: Link): number => Errno.ENOENT + l.index;\n")).toEqual([]);
  }, 60_000);

  it.each([
    ['a subpath of another package', src, "export { Annotations } from '@balanced/k8s/dist/annotations.js';\n", 'no-restricted-imports'],
    ['the dist/ of a third-party package', src, "export { V1Pod } from '@kubernetes/client-node/dist/gen/models/V1Pod.js';\n", 'no-restricted-imports'],
    ['a relative path into another package', src, "export { familyNumber } from '../../netlink/src/family.js';\n", 'import-x/no-relative-packages'],
    ['an undeclared dependency', src, "export { Redis } from 'ioredis';\n", 'import-x/no-extraneous-dependencies'],
    ['a devDependency from src/', src, "export { findRepoRoot } from '@balanced/testkit';\n", 'import-x/no-extraneous-dependencies'],
    ['an undeclared workspace package from a test', test, "export { buildDesired } from '@balanced/k8s';\n", 'import-x/no-extraneous-dependencies'],
    ['a default export', src, 'const x = 1;\nexport default x;\n', 'import-x/no-default-export'],
    ['a value import used only as a type', src, "import { Link } from '@balanced/netlink';\nexport const f = (l: Link): number => l.index;\n", '@typescript-eslint/consistent-type-imports'],
    ['console output from src/', src, "export function f(): void {\n  console.log('x');\n}\n", 'no-console'],
    ['an untyped exported function', src, 'export function f(a: number) {\n  return a;\n}\n', '@typescript-eslint/explicit-module-boundary-types'],
  ])('reports %s', async (_name, file, code, rule) => {
    expect(await rulesBroken(file, code)).toContain(rule);
  }, 60_000);
});
