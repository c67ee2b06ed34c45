import * as path from 'node:path';
import { readWav } from '../audio';
import { discoverDataset, type Clip, type Layout } from '../datasets';
import { GenrepError } from '../errors';
import { embedderList, openEmbedder } from '../experiments/embedderSpec';
import { extractFeatures } from '../experiments/extract';
import { FeatureCache } from '../experiments/featureCache';
import { readResults } from '../experiments/readResults';
import type { ExplainResult } from '../protocol/explain';
import { buildBanks, type Domain } from '../scoring';
import type { Settings } from '../settings';
import { attribute } from './attribute';
import { decomposeClip } from './explainClip';

/** What explaining a clip of a run takes (`genrep explain --results`, genrep/explainClip with resultsFile). */
export interface ExplainRunOptions {
  resultsFile: string;
  /** The test clip: its file name or path as results.json lists it. */
  clip: string;
  /** The variant's id (default: the first, the config's own DN mode and MemMixup). */
  variant?: string;
  neighbours?: number;
  settings: Settings;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/**
 * Why a run scored a test clip as it did: the run's config from results.json, the clip's machine type's banks rebuilt
 * at its chosen layer from the feature cache (the run's own features: same embedder, pooling and channel, so a
 * cache hit), under the variant's DN mode, K_n and MemMixup as scoreCell builds them; transductive DN takes its
 * statistics from the machine type's test clips as the run did.
 */
export async function explainClipOfRun(o: ExplainRunOptions): Promise<ExplainResult> {
  o.onProgress?.(`reading ${o.resultsFile}`);
  const results = await readResults(o.resultsFile);
  const { config } = results;
  const variant = o.variant === undefined ? results.variants[0] : results.variants.find((v) => v.id === o.variant);
  if (!variant) {
    throw new GenrepError(
      `${o.resultsFile}: no variant '${o.variant ?? ''}'; the run has ${results.variants.map((v) => `'${v.id}'`).join(', ')}`,
      'BAD_INPUT',
      { field: 'variant', expected: results.variants.map((v) => v.id).join(' | ') },
    );
  }
  if (variant.seeds !== null && variant.seeds.length > 0) {
    throw new GenrepError(
      `${o.resultsFile}: a low-shot run's banks are samples of the training clips; explain supports full runs`,
      'UNSUPPORTED',
      { field: 'lowShot' },
    );
  }
  const wanted = path.resolve(o.clip);
  const hit = variant.machines.flatMap((m) =>
    m.files
      .filter((f) => f.name === o.clip || f.path === o.clip || path.resolve(f.path) === wanted)
      .map((f) => ({ m, f })),
  )[0];
  if (!hit) {
    throw new GenrepError(`${o.resultsFile}: no test clip '${o.clip}' in variant '${variant.id}'`, 'BAD_INPUT', {
      field: 'clip',
    });
  }
  const { m: machine } = hit;
  const layer = machine.chosenLayer;
  const root = results.dataset.root ?? config.dataset.root;
  if (root === undefined || root === null) {
    throw new GenrepError(`${o.resultsFile}: the run names no dataset root`, 'BAD_INPUT', { field: 'dataset.root' });
  }
  o.onProgress?.(`finding the ${machine.machineType} clips`);
  const ds = config.dataset;
  const dataset = await discoverDataset({
    root,
    layout: results.dataset.layout as Layout,
    machineTypes: [machine.machineType],
    ...(ds.sections ? { sections: ds.sections } : {}),
    ...(ds.groundTruthDir ? { groundTruthDir: ds.groundTruthDir } : {}),
    ...(ds.files ? { files: ds.files } : {}),
    skipUnrecognised: ds.skipUnrecognised,
  });
  const skipped = new Set(results.dataset.skipped.map((s) => path.resolve(s.path)));
  const kept = (clips: readonly Clip[]): Clip[] => clips.filter((c) => !skipped.has(path.resolve(c.path)));
  const set = dataset.machines[0];
  if (!set) throw new GenrepError(`${root}: no machine type ${machine.machineType}`, 'BAD_INPUT');
  const train = kept(set.train);
  const test = kept(set.test);
  const row = test.findIndex((c) => path.resolve(c.path) === path.resolve(hit.f.path));
  if (row < 0) throw new GenrepError(`${hit.f.path}: no longer in the dataset at ${root}`, 'BAD_INPUT');

  const settings = config.cacheDir !== undefined ? { ...o.settings, cacheDir: config.cacheDir } : o.settings;
  const embedder = await openEmbedder(embedderList(config.embedder)[0], settings);
  try {
    const pooling = config.pooling;
    const cache = new FeatureCache(settings.cacheDir, {
      embedderId: embedder.id,
      pooling,
      channel: config.channel,
      dim: embedder.dim(pooling),
    });
    const features = async (clips: Clip[], what: string): Promise<Float32Array> => {
      o.onProgress?.(`${what} features (from the run's cache)`);
      const out = await extractFeatures(
        embedder,
        clips.map((c) => c.path),
        {
          layers: [layer],
          pooling,
          channel: config.channel,
          cache,
          batchSize: config.batchSize,
          skipUnreadable: false,
          ...(o.signal ? { signal: o.signal } : {}),
        },
      );
      const [f] = out.features;
      if (!f) throw new GenrepError('explain: no features extracted', 'INTERNAL');
      return f;
    };
    const trainRows = await features(train, 'training');
    const testRows = await features(test, 'test');
    const dim = embedder.dim(pooling);
    // As scoreCell builds them (experiments/scoreMachineLayer.ts).
    const domains = train.map((c) => c.domain);
    const hasDomains = domains.every((d): d is Domain => d !== undefined);
    const sectioned = !hasDomains && variant.dn !== 'none';
    const mixup = variant.mixup;
    const banks = buildBanks({
      train: trainRows,
      dim,
      ...(hasDomains ? { trainDomains: domains } : {}),
      ...(sectioned ? { trainSections: train.map((c) => c.section) } : {}),
      kn: variant.K_n,
      mixup: hasDomains && mixup && mixup.K_s > 0 ? { K_s: mixup.K_s, lambda: mixup.lambda } : null,
      index: config.index,
    });
    const clip = test[row]!;
    const audio = await readWav(clip.path, {
      channel: config.channel,
      targetSampleRate: 16000,
      ...(embedder.clipSamples !== undefined ? { maxSamples: embedder.clipSamples } : {}),
    });
    o.onProgress?.('splitting the distance');
    const d = await decomposeClip(embedder, audio.samples, layer, pooling, o.signal);
    const rowNames = train.map((c) => path.relative(dataset.root, c.path).split(path.sep).join('/'));
    const a = await attribute(d, {
      banks,
      dn: variant.dn,
      kn: variant.K_n,
      // Transductive DN: the machine type's whole test set, as the run scored it.
      scored:
        variant.dn === 'transductive'
          ? { features: testRows, row }
          : {
              features: testRows.slice(row * dim, (row + 1) * dim),
              row: 0,
            },
      rowNames,
      rowPath: (name) => path.join(dataset.root, name),
      ...(o.neighbours !== undefined ? { neighbours: o.neighbours } : {}),
    });
    return {
      clip: clip.name,
      embedder: embedder.id,
      layer,
      pooling,
      K_n: variant.K_n,
      dn: variant.dn,
      ...a,
      source: { resultsFile: o.resultsFile, variant: variant.id, machineType: machine.machineType },
    };
  } finally {
    await embedder.dispose();
  }
}
