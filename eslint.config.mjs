import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries.
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'kafkajs',
  'node-ssh',
  'ssh2',
  'pino',
  'yaml',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.lab/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts', 'src/model/**/*.ts', 'src/health/**/*.ts', 'src/reassignment/**/*.ts', 'src/reassignment-exec/**/*.ts', 'src/rolling/**/*.ts', 'src/runbooks/**/*.ts', 'src/kafka-tools/**/*.ts', 'src/names.ts', 'src/errors.ts', 'src/gates.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: forbiddenInWorkflows.map((name) => ({ name, message: 'not allowed in workflow code (Temporal sandbox)' })) }],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'src/lab/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
