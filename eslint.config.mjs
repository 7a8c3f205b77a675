// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, and nothing with side
 * effects (the SDK's client/worker/activity packages, the AWS SDK, our activities, our impure core
 * modules). Types may be imported from anywhere (they vanish at compile time).
 */
const WORKFLOW_BANNED = {
  paths: builtinModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({
    name,
    message: 'workflow code is deterministic: no Node built-ins (do it in an activity)',
  })),
  patterns: [
    {
      group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing', '@aws-sdk/*'],
      message: 'workflow code must not touch the outside world: call an activity',
      allowTypeImports: true,
    },
    {
      group: ['**/activities/**', '**/core/environment', '**/core/toolchain', '**/core/aws', '**/core/config'],
      message: 'only types from these modules (they have side effects): use `import type`',
      allowTypeImports: true,
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', '.ddb-lake/**', 'deploy/cdk.out/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked, prettier],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Values crossing JSON / the SDKs are typed at the edge (zod); the rest of the unsafe-* family
      // would flag every JSON.parse result we then check by hand.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      // Implementations of async interfaces are async whether or not they await.
      '@typescript-eslint/require-await': 'off',
      'object-shorthand': ['error', 'always'],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', WORKFLOW_BANNED] },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // CloudFormation templates and SDK payloads are inspected as loose JSON in tests.
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests print values they got from JSON as they are.
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // assert.rejects(mock.method) and MockActivityEnvironment.run(activities.x) pass methods on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // node:test's describe/it return promises the runner awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
    },
  },
);
