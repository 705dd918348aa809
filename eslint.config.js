// Lint = the package boundaries of shared/STYLE.md (b)12 plus the typescript-eslint rules that
// catch real mistakes. `npm run lint`; `npm test` runs it before the unit tests.
//
// Boundary rules (all files):
// - only `@balanced/<pkg>` entry points: no `@balanced/x/<subpath>`, no `<pkg>/dist|src|lib/...`
//   of any package, and no relative path that leaves the importing package;
// - declared dependencies only: every import must be in the importing package's own
//   package.json (`dependencies` for src/; tests and benches may also use devDependencies and
//   the root's shared tooling such as jest and fast-check). Needs the workspace built
//   (`tsc -b`, which scripts/setup.sh does first): a workspace import resolves through `dist/`,
//   and an import that does not resolve is not checked;
// - no default exports (except the tool config files that must have one);
// - type-only imports as `import type`.
import { readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const root = dirname(fileURLToPath(import.meta.url));
const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'packages', d.name, 'package.json')))
  .map((d) => d.name);


const code = ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs', '**/*.cjs'];
const testLike = (pkg) => [`packages/${pkg}/test/**`, `packages/${pkg}/bench/**`];

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'build/**',
      'bench/results/**',
      'images/**',
      '**/*.d.ts',
    ],
  },
  {
    files: code,
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly',
        clearInterval: 'readonly', setImmediate: 'readonly', clearImmediate: 'readonly',
        performance: 'readonly', structuredClone: 'readonly', AbortController: 'readonly',
        AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
        queueMicrotask: 'readonly', fetch: 'readonly', globalThis: 'readonly',
      },
    },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: code,
    plugins: { 'import-x': importX },
    settings: {
      // TypeScript's resolution (`./x.js` finds `./x.ts`), then node's for the .mjs benches.
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true }), importX.createNodeResolver()],
    },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {
            group: ['@balanced/*/**'],
            message: 'Import another package only through its entry point `@balanced/<pkg>` (STYLE (b)9); export what you need from its src/index.ts.',
          },
          {
            regex: '^(@[^/.][^/]*/)?[^@/.][^/]*/(dist|src|lib|build)(/|$)',
            message: 'Do not import a package\'s internals (dist/src/lib); use its public entry point.',
          },
        ],
      }],
      'import-x/no-relative-packages': 'error',
      'import-x/no-default-export': 'error',
      'import-x/no-self-import': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // Unused `_`-prefixed names are deliberate (callbacks with a fixed signature).
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_',
        destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
    },
  },
  // Declared dependencies only, against the importing package's own package.json.
  ...packages.flatMap((pkg) => [
    {
      files: code.map((g) => `packages/${pkg}/${g}`),
      rules: {
        'import-x/no-extraneous-dependencies': ['error', {
          packageDir: [join(root, 'packages', pkg)],
          devDependencies: false, optionalDependencies: false, peerDependencies: true,
          includeInternal: true, includeTypes: true,
        }],
      },
    },
    {
      files: testLike(pkg).map((d) => `${d}/*`),
      rules: {
        'import-x/no-extraneous-dependencies': ['error', {
          packageDir: [join(root, 'packages', pkg), root],
          devDependencies: true, optionalDependencies: false, peerDependencies: true,
          includeInternal: true, includeTypes: true,
        }],
      },
    },
  ]),
  {
    // Library and binary code: typed boundaries and no stray console output (a binary writes
    // through its logger or process.stdout/stderr on purpose).
    files: ['packages/*/src/**'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      'no-console': 'error',
    },
  },
  {
    // Tests and benches may read loosely typed documents (YAML, JSON fixtures) as `any`; the
    // assertions are the type checks there. `any` stays an error in src/.
    files: ['packages/*/test/**', 'packages/*/bench/**', 'test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Root-level tests drive the whole workspace: root devDependencies plus any workspace package.
    files: ['test/**/*'],
    rules: {
      'import-x/no-extraneous-dependencies': ['error', {
        packageDir: [root], devDependencies: true, includeInternal: true, includeTypes: true,
        whitelist: packages.map((p) => `@balanced/${p}`),
      }],
    },
  },
  {
    // Tool configs that the tool reads through a default export.
    files: ['eslint.config.js', 'jest.config.js', 'jest.*.js'],
    rules: { 'import-x/no-default-export': 'off' },
  },
);
