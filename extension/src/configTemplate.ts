import type { PaperDefaults } from '../../worker/src/protocol/vocabulary';
import type { MachineListing } from '../../worker/src/protocol/workerProtocol';

/**
 * K_s of a new config: below the source clips of the tiny datasets people start with (the paper's K_s is not), and
 * never above the dataset's smallest source bank where the caller knows it.
 */
const STARTER_K_S = 10;

export interface TemplateOptions {
  name: string;
  /** The dataset root as written into the file: relative to the config's folder where possible. */
  datasetRoot: string;
  /** Only these machine types (the config's `machineTypes`). */
  machineTypes?: string[];
  /** The machine types the dataset has, as discovered: named in the comment of a config that keeps them all. */
  foundMachineTypes?: string[];
  /** The smallest source bank among the machine types run (source training clips): K_s stays within it. */
  smallestSourceBank?: number;
  embedder?: string;
}

/**
 * What a new config needs to know of its dataset (a listing from genrep/listDatasets): the machine types, and the
 * smallest source bank among those the config runs (undefined where clips carry no domain: no MemMixup banks).
 */
export function datasetFacts(
  machines: readonly MachineListing[],
  only: readonly string[] | undefined,
): { foundMachineTypes: string[]; smallestSourceBank?: number } {
  const run = machines.filter((m) => !only || only.includes(m.machineType));
  const withDomains = run.filter((m) => m.train.length > 0 && m.train.every((c) => c.domain !== null));
  const sources = withDomains.map((m) => m.train.filter((c) => c.domain === 'source').length);
  return {
    foundMachineTypes: machines.map((m) => m.machineType),
    ...(sources.length > 0 ? { smallestSourceBank: Math.min(...sources) } : {}),
  };
}

/**
 * The layer a new config reports, fixed: the paper's layer 4 for its fine-tuned checkpoint (beats_ft1), fbank-stats'
 * only layer; undefined for another checkpoint, whose best single layer (models/manifest.json) the run then takes.
 */
export function templateLayer(embedder: string, paper: PaperDefaults): number | undefined {
  if (embedder === 'fbank-stats') return paper.fbankStatsLayer;
  if (embedder === 'beats_ft1') return paper.beatsLayer;
  return undefined;
}

/**
 * "GenRep: Create Run Config" writes this: every setting a first run needs, each with a comment saying what it
 * means and its paper symbol. JSON with comments (the loader and the editor's jsonc association accept them); the
 * values are the paper's (`paper`: PAPER_DEFAULTS, which the worker sends in `initialize`), except K_s; the reported
 * layer is fixed (test labels choose nothing unless the user asks for "oracle").
 * test/extension/commandLogic.test.ts checks that the worker loads and validates the output.
 */
export function runConfigTemplate(o: TemplateOptions, paper: PaperDefaults): string {
  const found = o.foundMachineTypes ?? [];
  const machineTypes =
    o.machineTypes && o.machineTypes.length > 0
      ? `\n    "machineTypes": ${JSON.stringify(o.machineTypes)},`
      : found.length > 0
        ? `\n    // Only some machine types (default: all ${found.length} found: ${found.join(', ')}):\n    // "machineTypes": ${JSON.stringify(found.slice(0, 2))},`
        : '\n    // "machineTypes": [...],  // only these (default: every machine type found)';
  const embedder = o.embedder ?? 'fbank-stats';
  const layer = templateLayer(embedder, paper);
  const kS = Math.min(STARTER_K_S, o.smallestSourceBank ?? STARTER_K_S);
  // Without a layer, the run fixes the checkpoint's best single layer (models/manifest.json).
  const layerSelection = layer !== undefined ? `{ "mode": "fixed", "layer": ${layer} }` : '{ "mode": "fixed" }';
  return `// GenRep run configuration. Run it with "GenRep: Run Experiment" (or \`genrep run <this file>\`).
// Completion comes from schemas/run-config.schema.json, and GenRep checks it against the dataset as you type
// (Problems panel, with quick fixes). Relative paths are relative to this file.
{
  "name": ${JSON.stringify(o.name)},
  "dataset": {
    // Dataset root: one folder per machine type, each with train/ and test/.
    "root": ${JSON.stringify(o.datasetRoot)},
    // auto | dcase2023 | dcase2020 | generic | files
    "layout": "auto",${machineTypes}
    "skipUnrecognised": false
  },
  // "fbank-stats" needs no weights; a BEATs checkpoint name (beats, beats_ft1, …) or a .pt / .onnx path uses BEATs.
  // Another pre-trained encoder (AST, Whisper, wav2vec2, HuBERT, WavLM, CLAP, PANNs CNN14, EfficientAT, speech-embedding):
  // { "kind": "encoder", "descriptor": "models/encoders/<family>.encoder.json" } with its ONNX file (docs/encoders.md).
  "embedder": ${JSON.stringify(embedder)},
  // Layers to extract and score: a list, or "all" (BEATs: 1..12, the paper's Fig. 1 sweep; fbank-stats: 1).
  "layers": ${layer !== undefined ? `[${layer}]` : '"all"'},
  // temporal (the paper's choice) | spectral | spatial
  "pooling": ${JSON.stringify(paper.pooling)},
  // K_n: neighbours averaged in the kNN distance (paper: ${paper.K_n}).
  "K_n": ${paper.K_n},
  // MemMixup: each target clip is mixed with its K_s nearest source clips as lambda·t + (1 − lambda)·s (paper: K_s = ${paper.mixup.K_s}, lambda = ${paper.mixup.lambda}; K_s = 0 turns it off).
  "mixup": { "K_s": ${kS}, "lambda": ${paper.mixup.lambda} },
  // Domain normalisation: transductive (the paper) | inductive (deployable) | none; a list runs each.
  "dn": ${JSON.stringify(paper.dn)},
  // Also score DN on/off × MemMixup on/off (the paper's Table 2).
  "ablation": false,
  // Which layer each machine type reports: fixed (one layer: the paper's ${paper.beatsLayer} for beats_ft1, ${paper.fbankStatsLayer} for fbank-stats,
  // a checkpoint's best single layer without "layer") |
  // validation (chosen without test labels) | oracle (best by test labels, as the paper's tables; marked "oracle").
  "layerSelection": ${layerSelection},
  // results.json, report.html and the DCASE submission files go here.
  "output": ${JSON.stringify(`genrep-results/${slug(o.name)}`)}
}
`;
}

export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'run'
  );
}
