// Jest runs the TypeScript sources directly as ESM (ts-jest transpiles only, because tsconfig sets
// isolatedModules; `npm test` type-checks
// the whole tree with tsc first, so per-file type checking here would only cost time).
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup-env.cjs'],
  testTimeout: 30000,
  // Integration tests open real sockets and start real servers; 2 workers match the 2-core machine.
  maxWorkers: 2,
};
