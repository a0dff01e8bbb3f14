import { execFileSync } from 'node:child_process';
import path from 'node:path';

// The layering of docs/architecture.md, as the lint in `npm test` enforces it: each import below
// breaks it, and the lint must say so. ESLint runs in a process of its own (its config is an ES
// module, which Jest's module system does not load), once for every case, without the type-aware
// rules: the cases are files that do not exist, which a TypeScript project cannot hold.
const root = path.resolve(__dirname, '../..');
type Case = [name: string, file: string, code: string];

/** For each case, the messages of `no-restricted-imports` that ESLint gives the code as if it were that file. */
function restrictedImports(cases: Case[]): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const cases = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false } }, rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' } }] });
    Promise.all(cases.map(([, file, code]) => eslint.lintText(code, { filePath: require('node:path').resolve(file) }))).then((results) =>
      console.log(JSON.stringify(results.map(([result]) => result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)))));`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script, JSON.stringify(cases)], { cwd: root, encoding: 'utf8' }),
  );
}

const refused: Case[] = [
  [
    'api/ importing an entry point in infra/',
    'api/x.ts',
    "import { startPodiumWorker } from '../infra/worker';\nexport const x = startPodiumWorker;\n",
  ],
  [
    'api/ importing an activity',
    'api/use-cases/x.ts',
    "import { createActivities } from '../../activities';\nexport const x = createActivities;\n",
  ],
  [
    'activities/ importing infra/',
    'activities/runtime/x.ts',
    "import { findFreePorts } from '../../infra/python-tools';\nexport const x = findFreePorts;\n",
  ],
  [
    'activities/ importing the API',
    'activities/x.ts',
    "import { createApp } from '../api/app';\nexport const x = createApp;\n",
  ],
  [
    'db/ importing a workflow',
    'db/x.ts',
    "import { modelPool } from '../workflows/model-pool';\nexport const x = modelPool;\n",
  ],
  ['lib/ importing db/', 'lib/x.ts', "import { findModel } from '../db/models';\nexport const x = findModel;\n"],
  [
    'domain/ importing lib/',
    'domain/x.ts',
    "import { projectRoot } from '../lib/project-root';\nexport const x = projectRoot;\n",
  ],
];
const allowed: Case[] = [
  [
    'api/ importing lib/, db/ and the workflow contract',
    'api/x.ts',
    "import { registry } from '../lib/metrics';\nimport { findModel } from '../db/models';\nimport { poolWorkflowId } from '../workflows/contracts';\nexport const x = [registry, findModel, poolWorkflowId];\n",
  ],
  [
    'lib/ importing the workflow contract',
    'lib/x.ts',
    "import { poolWorkflowId } from '../workflows/contracts';\nexport const x = poolWorkflowId;\n",
  ],
  [
    'infra/ importing every layer',
    'infra/x.ts',
    "import { createApp } from '../api/app';\nimport { createActivities } from '../activities';\nexport const x = [createApp, createActivities];\n",
  ],
];

describe('the layers the lint enforces', () => {
  let messages: string[][];
  beforeAll(() => {
    messages = restrictedImports([...refused, ...allowed]);
  }, 60_000);

  it.each(refused.map(([name], index) => [name, index] as const))('refuses %s', (_name, index) => {
    expect(messages[index]).toHaveLength(1);
  });

  it.each(allowed.map(([name], index) => [name, refused.length + index] as const))('allows %s', (_name, index) => {
    expect(messages[index]).toEqual([]);
  });
});
