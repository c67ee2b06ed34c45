// @ts-check
// The lint half of `npm run check` (the other halves: tsc over every tsconfig, prettier --check). Type-aware rules
// from typescript-eslint, and the product's boundaries as import rules, so crossing one fails the gate.
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import genrep from './eslint/plugin.mjs';

/** The numeric stages compute; orchestration, the CLI, the worker server and config loading sit above them. */
const NUMERIC_STAGES = ['audio', 'fbank', 'checkpoint', 'beats', 'onnx', 'scoring', 'metrics'];
const ABOVE_NUMERIC = ['experiments', 'cli', 'server', 'config'];

const vscodeOnlyInExtension = {
  name: 'vscode',
  message:
    'Only extension/ may import vscode: the worker runs headless (CLI, worker process) and the panel is a web page.',
};
const workerNotEditor = {
  group: ['**/extension/**', '**/webview-ui/**'],
  message: 'worker/ never imports the editor side.',
};

/**
 * A config block in which `files` may not import what `restricted` names (no-restricted-imports' `paths` and
 * `patterns`). A later block's list replaces an earlier one's for the files both match, so each list is whole.
 * @param {string[]} files
 * @param {{ paths?: object[], patterns: object[] }} restricted
 */
function restrictImports(files, restricted) {
  return { files, rules: { '@typescript-eslint/no-restricted-imports': ['error', restricted] } };
}

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.e2e/**', 'out/**', 'test-output/**', 'test/fixtures/**', 'examples/**'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // vitest.config.mts sits at the root, whose tsconfig.json only references the projects.
        projectService: { allowDefaultProject: ['vitest.config.mts'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    plugins: { genrep },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      eqeqeq: ['error', 'always'],
      'genrep/no-folder-cycles': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs', 'worker/bin/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // worker/: all computation, no editor. It never imports vscode, the extension or the panel.
  restrictImports(['worker/**/*.ts'], { paths: [vscodeOnlyInExtension], patterns: [workerNotEditor] }),
  // The numeric stages never reach up into orchestration: they are usable (and testable) on their own.
  restrictImports(
    NUMERIC_STAGES.map((stage) => `worker/src/${stage}/**/*.ts`),
    {
      paths: [vscodeOnlyInExtension],
      patterns: [
        workerNotEditor,
        {
          group: ABOVE_NUMERIC.map((folder) => `**/${folder}/**`).concat(ABOVE_NUMERIC.map((f) => `../${f}`)),
          message: `The numeric stages (${NUMERIC_STAGES.join(', ')}) never import ${ABOVE_NUMERIC.join(', ')}.`,
        },
      ],
    },
  ),
  // The protocol is a leaf: the wire and config vocabulary, importing nothing else of ours.
  restrictImports(['worker/src/protocol/**/*.ts'], {
    paths: [vscodeOnlyInExtension],
    patterns: [{ group: ['../*', '../**'], message: 'worker/src/protocol/ imports nothing outside itself.' }],
  }),
  // The extension and the panel see the worker only through its protocol, and only as types (nothing of the
  // worker is bundled into them).
  restrictImports(['extension/**/*.ts', 'webview-ui/**/*.ts'], {
    patterns: [
      {
        regex: '(^|/)worker/(?!src/protocol/)',
        message: 'The editor side imports worker code only from worker/src/protocol/.',
      },
      {
        regex: '(^|/)worker/src/protocol/',
        allowTypeImports: true,
        message: 'Import the protocol as types only (import type), so no worker code reaches the bundle.',
      },
    ],
  }),
  {
    ...restrictImports(['webview-ui/**/*.ts'], {
      paths: [vscodeOnlyInExtension],
      patterns: [
        {
          regex: '(^|/)worker/(?!src/protocol/)',
          message: 'The panel imports worker code only from worker/src/protocol/.',
        },
        {
          regex: '(^|/)worker/src/protocol/(?!chartSpecs$)',
          allowTypeImports: true,
          message:
            'Import the protocol as types only (import type); the chart specs are the one runtime module the panel shares.',
        },
        { group: ['**/extension/**'], message: 'The panel talks to the extension by messages only.' },
      ],
    }),
    languageOptions: { globals: { ...globals.browser } },
  },
  prettier,
);
