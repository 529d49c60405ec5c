import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Internal packages a transport (or the hub) must never import: the dependency rule. */
const transportPackages = ['@switchyard/transport-*', '@switchyard/transport-*/*'];
const corePackages = ['@switchyard/hub', '@switchyard/signaller', '@switchyard/server'];
const testOnly = ['@switchyard/testing', '@switchyard/testing/*', '@switchyard/test-kit'];

/** `no-restricted-imports` with the given package patterns refused, plus test packages. */
const refuse = (patterns, message) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: patterns, message },
        { group: testOnly, message: 'test packages are for specs and test helpers only' },
      ],
    },
  ],
});

const nodeBuiltins = {
  group: ['node:*'],
  message: 'browser-safe code: no node: imports (docs/architecture.md, "Dependency rules")',
};

export default tseslint.config(
  {
    ignores: [
      '**/out-tsc/**',
      '**/dist/**',
      '**/node_modules/**',
      '**/.nx/**',
      '**/vitest.config.ts',
      'vitest.shared.ts',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // callback-heavy networking code: a forgotten promise is a lost error
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  // The dependency rule: the hub, the signaller and every transport depend on protocol (and
  // server halves on @switchyard/http) only; apps compose them.
  {
    files: ['libs/transport-*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.test-helper.ts'],
    rules: refuse(
      [...transportPackages, ...corePackages],
      'a transport depends on @switchyard/protocol and @switchyard/http only',
    ),
  },
  {
    files: ['libs/hub/src/**/*.ts', 'libs/protocol/src/**/*.ts', 'libs/http/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.test-helper.ts'],
    rules: refuse(
      [...transportPackages, ...corePackages],
      'the core depends on @switchyard/protocol only',
    ),
  },
  {
    files: ['libs/signaller/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.test-helper.ts'],
    rules: refuse(
      [...transportPackages, ...corePackages.filter((name) => name !== '@switchyard/signaller')],
      'the signaller depends on @switchyard/protocol only',
    ),
  },
  // Browser-safe code: protocol, hub, signaller, and every client half.
  {
    files: [
      'libs/protocol/src/**/*.ts',
      'libs/hub/src/**/*.ts',
      'libs/signaller/src/**/*.ts',
      'libs/transport-*/src/client.ts',
      'libs/transport-*/src/client/**/*.ts',
      'libs/transport-*/src/shared/**/*.ts',
      'libs/transport-datachannel/src/*.ts',
    ],
    ignores: ['**/*.spec.ts', '**/*.test-helper.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            {
              group: [...transportPackages, ...corePackages, ...testOnly],
              message: 'browser-safe code depends on @switchyard/protocol only',
            },
          ],
        },
      ],
    },
  },
);
