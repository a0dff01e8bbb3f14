import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePythonTool, pythonClientTests } from '../../infra/python-tools';
import { projectRoot } from '../../lib/project-root';
import { useTestStack } from '../support/test-stack';

const run = promisify(execFile);
const stack = useTestStack();
let python: string;
beforeAll(() => {
  python = path.join(
    ensurePythonTool(pythonClientTests, () => undefined),
    'bin',
    'python',
  );
}, 300_000);

/** The ```python blocks of a Markdown file, but those after a "not run" marker (fragments). */
function pythonBlocks(file: string): string[] {
  const text = readFileSync(path.join(projectRoot, file), 'utf8');
  return [...text.matchAll(/(<!-- a fragment: not run by the docs test -->\n)?```python\n([\s\S]*?)```/g)]
    .filter((match) => !match[1])
    .map((match) => match[2]!);
}

const blocks = [
  ...pythonBlocks('README.md').map((code, i) => ({ where: `README.md #${i + 1}`, code })),
  ...pythonBlocks('docs/clients.md').map((code, i) => ({ where: `docs/clients.md #${i + 1}`, code })),
];

describe('the Python examples in the docs', () => {
  it('are there: the quick start, and the guide’s', () => {
    expect(blocks.map((block) => block.where)).toEqual(['README.md #1', 'docs/clients.md #1', 'docs/clients.md #2']);
  });

  it.each(blocks)('$where runs as written and prints a result', async ({ code }) => {
    // As written, but for the address of the Podium under test.
    const { stdout, stderr } = await run(python, ['-c', code.replaceAll('http://localhost:8080', stack.baseUrl)], {
      env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'clients/python/src') },
      timeout: 120_000,
    });
    expect(stderr).toBe('');
    expect(stdout.trim()).not.toBe('');
    if (code.includes('sentiment')) expect(stdout).toContain("'positive'");
  });
});
