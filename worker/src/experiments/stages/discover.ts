import * as path from 'node:path';
import type { LoadedConfig } from '../../config/loadConfig';
import { refuseFindings, validateAgainstDataset } from '../../config/validateAgainstDataset';
import { discoverDataset, type Dataset } from '../../datasets';
import type { RunProgress } from '../runContext';

export interface DiscoverStage {
  loaded: LoadedConfig;
  progress: (p: RunProgress) => void;
  log: (line: string) => void;
}

/**
 * Stage 1: the config's dataset as clips (the root defaults to the config's folder), after the config's semantic
 * checks against it (config/validateAgainstDataset.ts) pass.
 */
export async function discover({ loaded, progress, log }: DiscoverStage): Promise<Dataset> {
  const { dataset: ds } = loaded.config;
  progress({ stage: 'discover', done: 0, total: 1, message: 'discovering clips' });
  // The editor's checks (genrep/validateConfig), made before any feature is extracted and in the same words.
  const findings = await validateAgainstDataset(loaded.config, { file: loaded.file, written: loaded.written });
  refuseFindings(findings, loaded.file, loaded.locate);
  const dataset = await discoverDataset({
    root: ds.root ?? path.dirname(path.resolve(loaded.file)),
    layout: ds.layout,
    ...(ds.machineTypes ? { machineTypes: ds.machineTypes } : {}),
    ...(ds.sections ? { sections: ds.sections } : {}),
    ...(ds.groundTruthDir ? { groundTruthDir: ds.groundTruthDir } : {}),
    ...(ds.files ? { files: ds.files } : {}),
    skipUnrecognised: ds.skipUnrecognised,
  });
  const machines = dataset.machines.map((m) => `${m.machineType} (${m.train.length} train, ${m.test.length} test)`);
  log(`dataset ${dataset.root}: layout ${dataset.layout}, ${machines.join(', ')}`);
  return dataset;
}
