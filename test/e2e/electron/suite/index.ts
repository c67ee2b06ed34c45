import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { E2eWorkspace } from '../../harness/workspace';
import { E2E_MACHINES } from '../../harness/workspace';

/**
 * The extension-host half of `npm run test:electron`: the same journey as the browser test (run the experiment,
 * build a memory bank, score two clips), driven through the commands' arguments as the explorer and the Dataset
 * Explorer pass them, since quick picks cannot be answered from here. @vscode/test-electron calls run() inside the
 * extension host and fails the run when it rejects.
 */

const EXTENSION_ID = 'genrep.genrep';

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface ResultsFile {
  variants: { machines: { machineType: string; metrics: { auc: number } | null }[] }[];
}

function resultsTabOpen(): boolean {
  return vscode.window.tabGroups.all.some((group) =>
    group.tabs.some((tab) => tab.input instanceof vscode.TabInputWebview && tab.label === 'GenRep Results'),
  );
}

async function step(name: string, body: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await body();
    console.log(`  ✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    console.log(`  ✗ ${name}`);
    throw error;
  }
}

export async function run(): Promise<void> {
  const workspace = JSON.parse(process.env['GENREP_E2E_WORKSPACE'] ?? 'null') as E2eWorkspace | null;
  assert.ok(workspace, 'GENREP_E2E_WORKSPACE is not set: run this suite through runTest.js');
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  await extension.activate();

  await step('Run Experiment writes results with AUCs for every machine type and opens the results panel', async () => {
    await vscode.commands.executeCommand('genrep.runExperiment', vscode.Uri.file(workspace.configFile));
    const resultsFile = path.join(workspace.dir, 'results', 'results.json');
    assert.ok(existsSync(resultsFile), `${resultsFile} was not written`);
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as ResultsFile;
    const machines = results.variants[0]?.machines ?? [];
    assert.deepEqual(machines.map((m) => m.machineType).sort(), [...E2E_MACHINES].sort());
    for (const machine of machines) {
      assert.ok(
        machine.metrics && machine.metrics.auc >= 0 && machine.metrics.auc <= 1,
        `${machine.machineType}: AUC ${machine.metrics?.auc}`,
      );
    }
    await until('the results panel', 30_000, () => (resultsTabOpen() ? true : undefined));
  });

  const machine = E2E_MACHINES[0];
  const bankDir = path.join(workspace.dir, '.genrep', 'banks');
  await step(`Build Memory Bank saves a bank for ${machine}`, async () => {
    // A Dataset Explorer machine node, as the tree passes it; the command ends only when its notification is
    // dismissed, so watch for the file instead of awaiting it.
    const trainDir = path.join(workspace.dataDir, machine, 'train');
    const train = readdirSync(trainDir)
      .filter((name) => name.endsWith('.wav'))
      .map((name) => ({ path: path.join(trainDir, name), domain: name.includes('_target_') ? 'target' : 'source' }));
    const node = {
      kind: 'machine',
      id: `e2e/${machine}`,
      root: workspace.dataDir,
      machine: { machineType: machine, train },
    };
    void vscode.commands.executeCommand('genrep.buildBank', node);
    await until('a .grbank file', 120_000, () =>
      existsSync(bankDir) && readdirSync(bankDir).some((name) => name.endsWith('.grbank')) ? true : undefined,
    );
  });

  await step('Score Selected WAV Files scores two clips selected in the explorer', async () => {
    const uris = workspace.clipsToScore.names.map((name) =>
      vscode.Uri.file(path.join(workspace.dir, workspace.clipsToScore.folder, name)),
    );
    // The explorer passes the clicked file and the whole selection.
    await vscode.commands.executeCommand('genrep.scoreSelectedFiles', uris[0], uris);
    assert.ok(resultsTabOpen(), 'the scored files are not shown in the results panel');
  });
}
