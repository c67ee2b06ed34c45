import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GENREP_CLI } from './paths';

/** The machine types of the synthetic dataset; the results panel must show a ROC plot and metric rows for each. */
export const E2E_MACHINES = ['fan', 'pump'] as const;

/** Clips per machine type that `genrep synth` writes with the sizes below. */
const SYNTH_SIZES = { trainSource: 40, trainTarget: 5, testPerGroup: 6 };
export const E2E_CLIPS_PER_MACHINE = {
  train: SYNTH_SIZES.trainSource + SYNTH_SIZES.trainTarget,
  test: 4 * SYNTH_SIZES.testPerGroup,
};

/** The run configuration the test runs, as a user would write it (checked against schemas/run-config.schema.json). */
export const DEMO_CONFIG_NAME = 'demo.genrep.json';
export const DEMO_CONFIG = {
  name: 'e2e demo',
  dataset: { root: 'data' },
  embedder: 'fbank-stats',
  layers: [1],
  mixup: { K_s: 10, lambda: 0.9 },
  output: 'results',
  // Inside the workspace (under test-output/), so that a run leaves nothing in ~/.cache.
  cacheDir: '.genrep-cache',
};

/** A second run of the same dataset under another name: two runs, two titled panels, both in the Runs view. */
export const SECOND_CONFIG_NAME = 'second.genrep.json';
export const SECOND_CONFIG = { ...DEMO_CONFIG, name: 'e2e second', dn: 'none', output: 'results-second' };

/** A config whose K_s exceeds the 40-clip source banks: flagged in Problems while open, fixed by its quick fix. */
export const TOO_LARGE_CONFIG_NAME = 'too-large.genrep.json';
export const TOO_LARGE_CONFIG = {
  ...DEMO_CONFIG,
  name: 'e2e too large',
  mixup: { K_s: 5000, lambda: 0.9 },
  output: 'results-too-large',
};

export interface E2eWorkspace {
  dir: string;
  configFile: string;
  dataDir: string;
  /** Two test clips of one machine type to score from the explorer: the folder (relative, a/b/c) and their names. */
  clipsToScore: { folder: string; names: [string, string] };
  /** One test clip of the other machine type, for which no bank is built before it is scored. */
  otherClip: { folder: string; name: string };
}

/**
 * Makes the workspace: a small synthetic DCASE 2023-style dataset from `genrep synth` (two machine types, 40 + 5
 * training and 24 test clips each, 2 s long) and the run configuration.
 */
export function createWorkspace(dir: string): E2eWorkspace {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dataDir = path.join(dir, 'data');
  const synthArgs = [
    'synth',
    '--out',
    dataDir,
    '--machines',
    E2E_MACHINES.join(','),
    '--train-source',
    String(SYNTH_SIZES.trainSource),
    '--train-target',
    String(SYNTH_SIZES.trainTarget),
    '--test-per-group',
    String(SYNTH_SIZES.testPerGroup),
    '--duration',
    '2',
    '--seed',
    '1',
  ];
  execFileSync(process.execPath, [GENREP_CLI, ...synthArgs], { stdio: 'pipe', timeout: 180_000 });
  const configFile = path.join(dir, DEMO_CONFIG_NAME);
  writeFileSync(configFile, `${JSON.stringify(DEMO_CONFIG, null, 2)}\n`);
  writeFileSync(path.join(dir, SECOND_CONFIG_NAME), `${JSON.stringify(SECOND_CONFIG, null, 2)}\n`);
  writeFileSync(path.join(dir, TOO_LARGE_CONFIG_NAME), `${JSON.stringify(TOO_LARGE_CONFIG, null, 2)}\n`);
  // The worker's feature cache in the workspace too (the extension's default is ~/.cache/genrep).
  mkdirSync(path.join(dir, '.vscode'));
  writeFileSync(
    path.join(dir, '.vscode', 'settings.json'),
    `${JSON.stringify({ 'genrep.cacheDirectory': '.genrep-cache' }, null, 2)}\n`,
  );
  const other = pickClipsToScore(dataDir, E2E_MACHINES[1]);
  return {
    dir,
    configFile,
    dataDir,
    clipsToScore: pickClipsToScore(dataDir, E2E_MACHINES[0]),
    otherClip: { folder: other.folder, name: other.names[0] },
  };
}

/** One anomalous and one normal test clip of `machine`, from the folder `genrep synth` wrote them to. */
function pickClipsToScore(dataDir: string, machine: string): E2eWorkspace['clipsToScore'] {
  const testDir = path.join(dataDir, machine, 'test');
  if (!existsSync(testDir)) throw new Error(`genrep synth wrote no ${testDir}`);
  const names = readdirSync(testDir)
    .filter((name) => name.endsWith('.wav'))
    .sort();
  const anomaly = names.find((name) => name.includes('_test_anomaly_'));
  const normal = names.find((name) => name.includes('_test_normal_'));
  if (!anomaly || !normal) throw new Error(`${testDir} lacks a normal or an anomalous test clip`);
  return { folder: `data/${machine}/test`, names: [anomaly, normal] };
}

/** User settings of the fresh VS Code profile: no trust prompt, no welcome pages, no telemetry, no updates. */
export const E2E_USER_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'files.exclude': { '**/.genrep-cache': true },
  'window.commandCenter': false,
  // A single click only selects: opening the clip (and the explorer's reveal of the opened editor) would race the
  // ctrl+click that extends the selection.
  'workbench.list.openMode': 'doubleClick',
  'explorer.autoReveal': false,
};
