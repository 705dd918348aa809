// One jest base for every package. Three projects:
//   unit        — pure tests, no privileges (fast inner loop: npm run test:unit)
//   integration — real components on this host (netns, rtnetlink, BIRD, Redis); root
//   kernel      — run *inside* the lab VM (Debian kernel with IPVS) by `npm run test:kernel`
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const base = {
  transform: { '^.+\\.ts$': swc },
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^@balanced/([a-z0-9-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
  setupFilesAfterEnv: ['<rootDir>/jest.console-fail.js', '<rootDir>/jest.fast-check.js'],
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  modulePathIgnorePatterns: ['<rootDir>/packages/.*/dist/'],
};

export default {
  cacheDirectory: process.env.JEST_CACHE_DIR ?? '<rootDir>/node_modules/.cache/jest',
  watchman: false,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.kernel\\.test\\.ts$', '\\.integration\\.test\\.ts$'],
    },
    {
      ...base,
      displayName: 'integration',
      setupFilesAfterEnv: [...base.setupFilesAfterEnv, '<rootDir>/jest.slow-timeout.js'],
      testMatch: ['<rootDir>/packages/*/test/**/*.integration.test.ts', '<rootDir>/test/**/*.integration.test.ts'],
    },
    {
      ...base,
      displayName: 'kernel',
      setupFilesAfterEnv: [...base.setupFilesAfterEnv, '<rootDir>/jest.slow-timeout.js'],
      testMatch: ['<rootDir>/packages/*/test/**/*.kernel.test.ts', '<rootDir>/test/**/*.kernel.test.ts'],
    },
  ],
};
