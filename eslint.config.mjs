// `npm test` lints first (`npm run lint`: this, then madge for import cycles, type-only ones
// included). Beyond typescript-eslint's recommended rules, these hold the layering
// (docs/architecture.md): what each folder may import.
import tseslint from 'typescript-eslint';

/** Modules that do I/O or need a process around them: no place in workflows or domain. */
const ioModules = [
  'slonik',
  'pg',
  'koa',
  '@koa/*',
  '@kubernetes/client-node',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  'pino',
  'undici',
];
const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'http',
  'https',
  'net',
  'child_process',
  'crypto',
  'timers',
  'timers/*',
  'util',
  'stream',
  'worker_threads',
];
const restrict = (patterns) => ['error', { patterns }];
const testCluster = {
  group: ['**/test-cluster/**'],
  message: 'The simulated cluster is for tests: load it through infra/simulated-cluster.ts.',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'clients/typescript/dist/**',
      'node_modules/**',
      'web/dist/**',
      '.data/**',
      '.tools/**',
      'coverage/**',
      'test/replay/histories/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Type-aware: a forgotten `await` on an activity, a workflow API or a query is a silent bug
    // (Temporal's TypeScript samples turn these on for the same reason).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // zod compiles a parser the first time each schema object parses: a schema built inside a
    // query function is compiled again on every call (it showed in the warm path's profile).
    files: ['**/*.ts'],
    ignores: ['test/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.object.name='sql'][callee.property.name='type'] > CallExpression[callee.object.name='z']",
          message: 'Build the row schema once, at module level, and pass it to sql.type.',
        },
      ],
    },
  },
  // The one CommonJS script runs before dependencies exist (infra/ensure-deps.cjs).
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Tests read JSON answers as `any`: the assertions are what check their shape.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['**/*.ts'],
    ignores: ['test/**', 'infra/test-cluster/**', 'infra/simulated-cluster.ts'],
    rules: { 'no-restricted-imports': restrict([testCluster]) },
  },
  // The layers (docs/architecture.md, "Layout and layering"): entry points in infra/ import
  // everything; nothing else imports infra/. The API talks to workflows through Temporal's client,
  // never to activities; lib/ is the bottom, shared by all.
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        testCluster,
        {
          group: ['**/infra/**', '**/api/**', '**/web/**'],
          message:
            'activities/ imports domain/, db/, lib/ and workflows/ contracts: infra/ is for entry points, api/ and web/ are above it.',
        },
      ]),
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        testCluster,
        {
          group: ['**/infra/**', '**/activities', '**/activities/**', '**/web/**'],
          message:
            'api/ imports domain/, db/, lib/ and workflows/ contracts: it reaches workflows through the Temporal client, never activities/, and infra/ is for entry points.',
        },
      ]),
    },
  },
  {
    files: ['db/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        testCluster,
        {
          group: ['**/infra/**', '**/api/**', '**/activities', '**/activities/**', '**/workflows/**', '**/web/**'],
          message: 'db/ imports domain/ and lib/ only.',
        },
      ]),
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        testCluster,
        {
          group: [
            '**/infra/**',
            '**/api/**',
            '**/activities',
            '**/activities/**',
            '**/db/**',
            '**/web/**',
            '**/workflows/**',
            '!**/workflows/contracts',
          ],
          message: 'lib/ is the bottom layer: it imports domain/ and workflows/contracts only.',
        },
      ]),
    },
  },
  {
    // Workflow code is replayed: no I/O, no Node built-ins; other layers only for their types.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        testCluster,
        { group: [...ioModules, ...nodeBuiltins], message: 'Workflow code does no I/O: call an activity.' },
        {
          group: ['../db/**', '../api/**', '../infra/**', '../activities/**', '../web/**'],
          allowTypeImports: true,
          message: 'Workflows import other layers for their types only.',
        },
      ]),
    },
  },
  {
    // The domain is pure: types, schemas and decisions.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        testCluster,
        { group: [...ioModules, ...nodeBuiltins], message: 'domain/ does no I/O.' },
        {
          group: [
            '../db/**',
            '../api/**',
            '../infra/**',
            '../lib/**',
            '../activities/**',
            '../workflows/**',
            '../web/**',
          ],
          message: 'domain/ depends on nothing of ours.',
        },
      ]),
    },
  },
  {
    // The client is published on its own: the API's types from domain/, nothing else of ours.
    files: ['clients/typescript/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['**/domain/**'],
          allowTypeImports: true,
          message: 'The client takes the API types from domain/ as types only (its bundle has no server code).',
        },
        {
          group: [
            '**/api/**',
            '**/db/**',
            '**/lib/**',
            '**/activities/**',
            '**/workflows/**',
            '**/infra/**',
            '**/web/**',
          ],
          message: 'The client talks to the API over HTTP only.',
        },
      ]),
    },
  },
  {
    // The pages share the API's types from domain/ (types only: no schema code in the bundle).
    files: ['web/**/*.ts'],
    ignores: ['web/build.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['**/domain/**'],
          allowTypeImports: true,
          message: 'web/ takes the API types from domain/ as types only.',
        },
        {
          group: ['**/api/**', '**/db/**', '**/lib/**', '**/activities/**', '**/workflows/**', '**/infra/**'],
          message: 'web/ talks to the API over HTTP only.',
        },
      ]),
    },
  },
);
