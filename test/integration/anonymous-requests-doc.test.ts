import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useTestStack } from '../support/test-stack';

const stack = useTestStack();

const doc = readFileSync(path.resolve(__dirname, '../../docs/anonymous-requests.md'), 'utf8');
const shellBlocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
const documentedOutput = doc.match(/this prints\n\n```\n([\s\S]*?)\n```/)![1];

describe('docs/anonymous-requests.md', () => {
  it('has the walk-through as shell blocks', () => {
    expect(shellBlocks).toHaveLength(5);
  });

  it('its commands, run as written, create a session, submit, wait and print the documented result', async () => {
    // Asynchronously: the API under test answers from this very process.
    const run = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', shellBlocks.join('\n')], {
      env: { ...process.env, PODIUM: stack.baseUrl },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^token: pda_/);
    const id = lines[1]!.replace('request: ', '');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[2]).toBe('status: COMPLETE');
    expect(lines[3]).toBe(documentedOutput);
    expect(lines[4]).toBe(`${id} sentiment COMPLETE`);
  });
});
