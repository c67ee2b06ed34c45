import type { PaperDefaults } from '../../worker/src/protocol/vocabulary';

/** K_s of a new config: below the source clips of the tiny datasets people start with (the paper's K_s is not). */
const STARTER_K_S = 10;

export interface TemplateOptions {
  name: string;
  /** The dataset root as written into the file: relative to the config's folder where possible. */
  datasetRoot: string;
  machineTypes?: string[];
  embedder?: string;
}

/**
 * "GenRep: Create Run Config" writes this: every setting a first run needs, each with a comment saying what it
 * means and its paper symbol. JSON with comments (the loader and the editor's jsonc association accept them); the
 * values are the paper's (`paper`: PAPER_DEFAULTS, which the worker sends in `initialize`), except K_s.
 * test/extension/commandLogic.test.ts checks that the worker loads and validates the output.
 */
export function runConfigTemplate(o: TemplateOptions, paper: PaperDefaults): string {
  const machineTypes =
    o.machineTypes && o.machineTypes.length > 0
      ? `\n    "machineTypes": ${JSON.stringify(o.machineTypes)},`
      : '\n    // "machineTypes": ["fan", "valve"],  // only these (default: every machine type found)';
  return `// GenRep run configuration. Run it with "GenRep: Run Experiment" (or \`genrep run <this file>\`).
// Completion and checks come from schemas/run-config.schema.json; relative paths are relative to this file.
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
  "embedder": ${JSON.stringify(o.embedder ?? 'fbank-stats')},
  // Layers to extract and score: "all" or a list (BEATs: 1..12).
  "layers": "all",
  // temporal (the paper's choice) | spectral | spatial
  "pooling": ${JSON.stringify(paper.pooling)},
  // K_n: neighbours averaged in the kNN distance (paper: ${paper.K_n}).
  "K_n": ${paper.K_n},
  // MemMixup: each target clip is mixed with its K_s nearest source clips as lambda·t + (1 − lambda)·s (paper: K_s = ${paper.mixup.K_s}, lambda = ${paper.mixup.lambda}; K_s = 0 turns it off).
  "mixup": { "K_s": ${STARTER_K_S}, "lambda": ${paper.mixup.lambda} },
  // Domain normalisation: transductive (the paper) | inductive (deployable) | none; a list runs each.
  "dn": ${JSON.stringify(paper.dn)},
  // Also score DN on/off × MemMixup on/off (the paper's Table 2).
  "ablation": false,
  // Which layer each machine type reports: oracle (best by test labels, as the paper; marked "oracle") | fixed | validation.
  "layerSelection": "oracle",
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
