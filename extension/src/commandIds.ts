import type { RestartSetting } from '../../worker/src/protocol/workerProtocol';

/**
 * Every command the extension registers, with the title the manifest gives it (the palette shows
 * "GenRep: <title>"). test/extension/manifest.test.ts checks this table against package.json both ways, and the
 * end-to-end tests find commands by these titles.
 */
export const COMMANDS = {
  'genrep.runExperiment': 'Run Experiment',
  'genrep.scoreSelectedFiles': 'Score Selected WAV Files',
  'genrep.buildBank': 'Build Memory Bank',
  'genrep.openResults': 'Open Results',
  'genrep.downloadCheckpoint': 'Download BEATs Checkpoint',
  'genrep.createRunConfig': 'Create Run Config',
  'genrep.restartWorker': 'Restart Worker',
  'genrep.showLog': 'Show Worker Log',
  'genrep.refreshDatasets': 'Refresh Datasets',
  'genrep.addDatasetRoot': 'Add Dataset Root…',
  'genrep.removeDatasetRoot': 'Remove Dataset Root',
  'genrep.playClip': 'Play Clip',
  'genrep.revealClip': 'Reveal in File Explorer',
  'genrep.runs.open': 'Open Run',
  'genrep.runs.revealFolder': 'Reveal Run Folder',
  'genrep.runs.openReport': 'Open Report in Browser',
  'genrep.runs.compare': 'Compare Runs',
  'genrep.compareResults': 'Compare Results',
  'genrep.runs.runAgain': 'Run Again',
  'genrep.runs.refresh': 'Refresh Runs',
  'genrep.gettingStarted': 'Get Started',
} as const;

export type CommandId = keyof typeof COMMANDS;

export const VIEW_CONTAINER_ID = 'genrep';
export const DATASET_VIEW_ID = 'genrep.datasets';
export const RUNS_VIEW_ID = 'genrep.runs';
/** The walkthrough as workbench.action.openWalkthrough names it: `<publisher>.<name>#<id in package.json>`. */
export const WALKTHROUGH_ID = 'genrep.genrep#gettingStarted';
export const RESULTS_PANEL_TYPE = 'genrep.results';

/**
 * The `genrep.*` settings the worker is started with: changing one offers a restart (rust-analyzer's
 * requiresServerReloadOpts). The protocol names them (RestartSetting); a record rather than an array, so a setting
 * missing here or not in the protocol fails to compile. test/extension/manifest.test.ts checks package.json declares
 * each.
 */
const RESTART: Record<RestartSetting, true> = {
  modelDirectory: true,
  cacheDirectory: true,
  workerThreads: true,
  nodePath: true,
};
export const RESTART_SETTINGS = Object.keys(RESTART) as RestartSetting[];
