import { readFileSync } from 'node:fs';
import { readTestEnv } from '../support/services';

// The workflow sandbox evaluates the whole bundle again for every workflow run it starts (and
// every replay), so the bundle holds the SDK and our deterministic code, and no library of ours
// beside it: zod reached it once through the node autoscaler's decisions, and cost every request.
describe('the workflow bundle', () => {
  const code = readFileSync(readTestEnv('workflowBundle'), 'utf8');
  const packages = new Set(
    [...code.matchAll(/node_modules\/((?:@[a-z0-9-]+\/)?[a-z0-9.-]+)/g)].map((match) => match[1]!.replace(/\/.*$/, '')),
  );

  it('holds no zod', () => {
    expect([...packages].filter((name) => name.startsWith('zod'))).toEqual([]);
  });

  it('holds only the Temporal SDK and what it needs', () => {
    expect([...packages].sort()).toEqual(['@temporalio', 'long', 'ms', 'nexus-rpc']);
  });

  it('holds none of our I/O layers: the database, the API, the infrastructure', () => {
    expect(code).not.toMatch(/\.\.?\/(db|api|infra)\/[a-z-]+\.ts/);
  });
});
