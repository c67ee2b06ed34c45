import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseRunConfig } from '../config/loadConfig';
import { writeFileAtomic } from '../io/atomicWrite';
import type { Environment } from '../paths';
import { PAPER_DEFAULTS } from '../protocol/vocabulary';
import { resolveSettings } from '../settings';
import { synthesizeDataset, type SynthProgress } from '../synth';
import { runExperiment } from './run';
import type { ExperimentOutcome, RunContext } from './runContext';

/**
 * `genrep demo`: the whole method on a fresh machine with no download — a small synthetic DCASE 2023-layout dataset,
 * the built-in fbank-stats embedder, and the DN × MemMixup ablation. Sized to finish in about two minutes on a
 * 2-core machine; a second run reuses both the audio and the cached features.
 */
export const DEMO_SIZES = {
  machines: ['fan', 'pump', 'gearbox', 'bearing'],
  trainSource: 100,
  trainTarget: 10,
  testPerGroup: 25,
  durationSec: 10,
};

export interface DemoOptions extends RunContext {
  dir: string;
  /** For the model folder (the demo's config names its own cache folder); see worker/src/settings.ts. */
  env: Environment;
  seed?: number;
  onSynthProgress?: (p: SynthProgress) => void;
}

export async function runDemo(
  o: DemoOptions,
): Promise<ExperimentOutcome & { dataDir: string; configFile: string; synthSec: number }> {
  const t0 = performance.now();
  const dataDir = path.join(o.dir, 'data');
  await synthesizeDataset({
    out: dataDir,
    seed: o.seed ?? 1,
    machines: DEMO_SIZES.machines,
    trainSource: DEMO_SIZES.trainSource,
    trainTarget: DEMO_SIZES.trainTarget,
    testPerGroup: DEMO_SIZES.testPerGroup,
    durationSec: DEMO_SIZES.durationSec,
    ...(o.onSynthProgress ? { onProgress: o.onSynthProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const synthSec = (performance.now() - t0) / 1000;
  const configFile = path.join(o.dir, 'demo.genrep.json');
  // The paper's settings, except K_s: the demo's whole source bank, as the paper's 990 is DCASE 2023's.
  const text = `{
  // The demo's run: written by \`genrep demo\`; edit it and run \`genrep run ${configFile}\` to experiment.
  "name": "demo",
  "dataset": { "root": "data", "layout": "dcase2023" },
  "embedder": "fbank-stats",
  "layers": "all",
  "pooling": "${PAPER_DEFAULTS.pooling}",
  "K_n": ${PAPER_DEFAULTS.K_n},
  "mixup": { "K_s": ${DEMO_SIZES.trainSource}, "lambda": ${PAPER_DEFAULTS.mixup.lambda} },
  "dn": "${PAPER_DEFAULTS.dn}",
  "ablation": true,
  "layerSelection": "fixed",
  "cacheDir": ".cache",
  "output": "results"
}
`;
  if (!existsSync(configFile)) await writeFileAtomic(configFile, text);
  const loaded = parseRunConfig(text, configFile);
  const settings = resolveSettings({ runConfig: loaded.config, env: o.env });
  const outcome = await runExperiment(loaded, settings, o);
  return { ...outcome, dataDir, configFile, synthSec };
}
