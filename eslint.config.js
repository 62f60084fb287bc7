import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'src/generated/', 'node_modules/', 'coverage/', 'bench/node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Logs go through pino; stray console output is a review comment waiting to happen.
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Type-aware rules on the product's code (floating promises, unsafe any, misused promises...).
  // recommendedTypeChecked, not strictTypeChecked: strict added 109 findings on top of these, three
  // quarters of them style the code chooses on purpose (numbers in template literals, `() => void`
  // arrow bodies, `!` after checks noUncheckedIndexedAccess cannot see), not defects.
  {
    files: ['src/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Yoga/Envelop hook payloads type their callbacks (endResponse, setResult, addValidationRule...) as
    // methods, yet they are closures meant to be destructured, as Yoga's own documentation does.
    files: ['src/plugins/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Configuration is read in one place, validated together (src/config.ts). Tests, the benchmark and
    // the .mjs wrappers that run before TypeScript (scripts/generate.mjs, start.mjs) set or pass on
    // the environment of the processes they start, which is not reading configuration.
    files: ['src/**/*.ts', 'scripts/**/*.ts', 'prisma/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config.ts (loadConfig, loadDatabaseConfig).' }],
      'no-restricted-imports': [
        'error',
        {
          paths: ['process', 'node:process'].map((name) => ({
            name,
            importNames: ['env'],
            message: 'Read configuration through src/config.ts (loadConfig, loadDatabaseConfig).',
          })),
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
