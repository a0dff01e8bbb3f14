/** What every project shares. */
const project = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  // slonik, zod and @kubernetes/client-node ship ESM only: transform everything to CommonJS.
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  transformIgnorePatterns: [],
  setupFilesAfterEnv: ['<rootDir>/test/support/release-roarr.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  // PostgreSQL and Temporal, for every project.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    { ...project, displayName: 'core', roots: ['<rootDir>/test'], testPathIgnorePatterns: ['<rootDir>/test/kubernetes/'] },
    {
      ...project,
      displayName: 'kubernetes',
      roots: ['<rootDir>/test/kubernetes'],
      // The simulated cluster starts only when a test of this project runs.
      globalSetup: '<rootDir>/test/support/kubernetes-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/kubernetes-global-teardown.ts',
    },
  ],
  testTimeout: 60_000,
  maxWorkers: 2,
  // The Temporal native bridge keeps a handle open after the last test.
  forceExit: true,
};
