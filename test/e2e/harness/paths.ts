import * as path from 'node:path';

/** Where the end-to-end harness keeps things; everything lives inside the repository (.e2e/ and test-output/ are gitignored). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Installed by scripts/e2e/install-code-server.sh. */
export const CODE_SERVER_BIN = path.join(REPO_ROOT, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server');

/** The packaged extension, installed here by scripts/e2e/setup.sh (a fresh folder on every setup). */
export const E2E_EXTENSIONS_DIR = path.join(REPO_ROOT, '.e2e', 'extensions');

/** Screenshots, logs, the workspace and every profile of one run; wiped at the start of the next. */
export const E2E_OUTPUT_DIR = path.join(REPO_ROOT, 'test-output', 'e2e');

export const GENREP_CLI = path.join(REPO_ROOT, 'worker', 'bin', 'genrep.js');

/** Debian's chromium package; playwright-core never downloads a browser here. */
export const CHROMIUM_BIN = process.env['GENREP_E2E_CHROMIUM'] ?? '/usr/bin/chromium';
