/** What jest's global setup started, handed to the test files through the environment. */
export const testEnv = {
  databaseUrl: 'PODIUM_TEST_DATABASE_URL',
  temporalAddress: 'PODIUM_TEST_TEMPORAL_ADDRESS',
  workflowBundle: 'PODIUM_TEST_WORKFLOW_BUNDLE',
  chromium: 'PODIUM_TEST_CHROMIUM',
  kubeconfig: 'PODIUM_TEST_KUBECONFIG',
} as const;

export function readTestEnv(name: keyof typeof testEnv): string {
  const value = process.env[testEnv[name]];
  if (!value)
    throw new Error(
      `${testEnv[name]} is not set: run the tests with \`npm test\` (jest global setup starts the services)`,
    );
  return value;
}
