import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

/** The ```<language> blocks of a Markdown file, but those after a "not run" marker (fragments). */
function codeBlocks(file: string, language: 'python' | 'typescript'): string[] {
  const text = readFileSync(path.join(projectRoot, file), 'utf8');
  const block = new RegExp(
    `(<!-- a fragment: not run by the docs test -->\\n)?\`\`\`${language}\\n([\\s\\S]*?)\`\`\``,
    'g',
  );
  return [...text.matchAll(block)].filter((match) => !match[1]).map((match) => match[2]!);
}
const pythonBlocks = (file: string) => codeBlocks(file, 'python');

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

const typescriptBlocks = [
  ...codeBlocks('clients/typescript/README.md', 'typescript').map((code, i) => ({
    where: `clients/typescript/README.md #${i + 1}`,
    code,
  })),
  ...codeBlocks('docs/clients.md', 'typescript').map((code, i) => ({ where: `docs/clients.md #${i + 1}`, code })),
];

describe('the TypeScript examples in the docs', () => {
  it('are there: the package’s quick start, and the guide’s', () => {
    expect(typescriptBlocks.map((block) => block.where)).toEqual([
      'clients/typescript/README.md #1',
      'docs/clients.md #1',
      'docs/clients.md #2',
    ]);
  });

  it.each(typescriptBlocks)('$where runs as written and prints a result', async ({ code }) => {
    // As written, but for the address of the Podium under test and where the package's source is.
    const dir = await mkdtemp(path.join(tmpdir(), 'podium-ts-doc-'));
    try {
      const file = path.join(dir, 'example.mts');
      await writeFile(
        file,
        code
          .replaceAll('http://localhost:8080', stack.baseUrl)
          .replaceAll("'@podium/client'", JSON.stringify(path.join(projectRoot, 'clients/typescript/src/index.ts'))),
      );
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file], {
        cwd: projectRoot,
        timeout: 120_000,
      });
      expect(stderr).toBe('');
      expect(stdout.trim()).not.toBe('');
      if (code.includes('sentiment')) expect(stdout).toContain("'positive'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
