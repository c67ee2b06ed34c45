import * as path from 'node:path';
import { readWav } from '../audio';
import { BeatsEmbedder, FbankStatsEmbedder, type Embedder } from '../embedders';
import { GenrepError } from '../errors';
import { openEmbedder } from '../experiments/embedderSpec';
import type { ExplainResult } from '../protocol/explain';
import type { EmbedderConfig } from '../protocol/runConfig';
import type { DnMode, Pooling } from '../protocol/vocabulary';
import { loadBank, type MemoryBanks } from '../scoring';
import type { Settings } from '../settings';
import { attribute } from './attribute';
import { beatsDecomposition, fbankStatsDecomposition, type FrameDecomposition } from './decompose';

/** What explaining a clip against a saved bank takes (`genrep explain --bank`, genrep/explainClip with bankFile). */
export interface ExplainBankOptions {
  bankFile: string;
  /** The WAV file to explain. */
  clip: string;
  /** 'inductive' (the bank's stored statistics; the default when it has them) or 'none'. */
  dn?: DnMode;
  /** The embedder that built the bank; fbank-stats banks need none, BEATs banks need their checkpoint. */
  embedder?: EmbedderConfig;
  neighbours?: number;
  /** Dataset root the bank's row names are relative to, so neighbours get playable paths. */
  datasetRoot?: string;
  channel?: number | 'mean';
  settings: Settings;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** The clip's temporal decomposition in the bank's feature space, and its pooled row as scoring would read it. */
export async function decomposeClip(
  embedder: Embedder,
  waveform: Float32Array,
  layer: number,
  pooling: Pooling,
  signal?: AbortSignal,
): Promise<FrameDecomposition> {
  if (pooling !== 'temporal') {
    throw new GenrepError(
      `explain: pooling '${pooling}' cannot be split over time and frequency (only 'temporal' keeps both: a ` +
        `spectral pooling has no frequency bands left, a spatial one neither); explain a bank or run built with ` +
        `temporal pooling`,
      'UNSUPPORTED',
      { field: 'pooling', expected: 'temporal' },
    );
  }
  if (embedder instanceof FbankStatsEmbedder) return fbankStatsDecomposition(waveform);
  if (embedder instanceof BeatsEmbedder) return beatsDecomposition(await embedder.tokens(waveform, layer, signal));
  throw new GenrepError(
    `explain: ${embedder.id} has no unpooled output to split over time and frequency; explain supports BEATs ` +
      `checkpoints and fbank-stats`,
    'UNSUPPORTED',
    { field: 'embedder', expected: 'beats | fbank-stats' },
  );
}

/** The bank's embedder, opened from `config` or, for fbank-stats banks, from the id alone. */
async function bankEmbedder(banks: MemoryBanks, o: ExplainBankOptions): Promise<Embedder> {
  const id = banks.meta.embedder ?? null;
  const config: EmbedderConfig | undefined = o.embedder ?? (id?.startsWith('fbank-stats') ? 'fbank-stats' : undefined);
  if (config === undefined) {
    throw new GenrepError(
      `${o.bankFile}: the bank was built with ${id ?? 'an unrecorded embedder'}; name it (embedder / --embedder, ` +
        `e.g. the BEATs checkpoint) to explain a clip against it`,
      'BAD_INPUT',
      { field: 'embedder', ...(id ? { expected: id } : {}) },
    );
  }
  const embedder = await openEmbedder(config, o.settings);
  if (id !== null && embedder.id !== id) {
    await embedder.dispose();
    throw new GenrepError(`${o.bankFile}: the bank was built with ${id}, not ${embedder.id}`, 'BAD_INPUT', {
      field: 'embedder',
      expected: id,
    });
  }
  return embedder;
}

/** Why a clip scored as it did against a saved bank (docs/explain.md). */
export async function explainClipWithBank(o: ExplainBankOptions): Promise<ExplainResult> {
  o.onProgress?.(`loading ${o.bankFile}`);
  const banks = await loadBank(o.bankFile);
  const dn = o.dn ?? (banks.cache.inductive.size > 0 ? 'inductive' : 'none');
  if (dn === 'transductive') {
    throw new GenrepError(
      'explain: transductive DN needs a test set; a single clip against a bank uses inductive or none (explain a ' +
        "run's clip with --results for transductive)",
      'BAD_INPUT',
      { field: 'dn', expected: 'inductive | none' },
    );
  }
  const layer = banks.meta.layer ?? 1;
  const pooling = (banks.meta.pooling ?? 'temporal') as Pooling;
  const embedder = await bankEmbedder(banks, o);
  try {
    o.onProgress?.(`embedding ${o.clip}`);
    const audio = await readWav(o.clip, {
      channel: o.channel ?? 0,
      targetSampleRate: 16000,
      ...(embedder.clipSamples !== undefined ? { maxSamples: embedder.clipSamples } : {}),
    });
    const d = await decomposeClip(embedder, audio.samples, layer, pooling, o.signal);
    o.onProgress?.('splitting the distance');
    const [feature] = await embedder.embed([audio.samples], { layers: [layer], pooling });
    if (!feature) throw new GenrepError('the embedder returned no features', 'INTERNAL');
    const rowNames = banks.meta.rowNames;
    const root = o.datasetRoot;
    const a = await attribute(d, {
      banks,
      dn,
      scored: { features: feature, row: 0 },
      ...(o.neighbours !== undefined ? { neighbours: o.neighbours } : {}),
      ...(rowNames ? { rowNames } : {}),
      ...(root !== undefined ? { rowPath: (name: string) => path.join(root, name) } : {}),
    });
    return {
      clip: o.clip,
      embedder: embedder.id,
      layer,
      pooling,
      K_n: banks.kn,
      dn,
      ...a,
      source: { bankFile: o.bankFile },
    };
  } finally {
    await embedder.dispose();
  }
}
