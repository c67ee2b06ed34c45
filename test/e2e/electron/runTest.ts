import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { E2E_OUTPUT_DIR, REPO_ROOT } from '../harness/paths';
import { createWorkspace } from '../harness/workspace';

/**
 * `npm run test:electron`: the extension-host suite (suite/index.ts) in a desktop VS Code that @vscode/test-electron
 * downloads (into .e2e/vscode-test/). For developers whose machines can reach VS Code's download site; CI uses the
 * code-server suite (`npm run test:e2e`) instead. Runs the extension from the repository (npm run build first), on
 * the same synthetic workspace as the browser test.
 */
async function main(): Promise<void> {
  const outputDir = path.join(E2E_OUTPUT_DIR, 'electron');
  const workspace = createWorkspace(path.join(outputDir, 'workspace'));
  await runTests({
    version: process.env['GENREP_VSCODE_VERSION'] ?? 'stable',
    cachePath: path.join(REPO_ROOT, '.e2e', 'vscode-test'),
    extensionDevelopmentPath: REPO_ROOT,
    extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
    launchArgs: [
      workspace.dir,
      '--disable-extensions',
      '--disable-workspace-trust',
      '--skip-welcome',
      '--skip-release-notes',
      '--user-data-dir',
      path.join(outputDir, 'user-data'),
      '--extensions-dir',
      path.join(outputDir, 'extensions'),
    ],
    extensionTestsEnv: { GENREP_E2E_WORKSPACE: JSON.stringify(workspace) },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
