import { buildBanks, type BuildBanksOptions } from './banks';
import { gramBackend, type GramBackendName } from './gramBackend';
import { scoreMachine, type MachineScores, type ScoreMachineOptions } from './scoreMachine';

/**
 * Scores one machine type at every layer (the paper's layer sweep: the pipeline runs independently per layer,
 * docs/scoring.md "Pipeline, per machine type and per layer"), one layer after the other in the calling thread, the
 * matrix products on the Gram backend (docs/scoring.md, "Gram backend").
 * A pool of per-layer worker threads (one ONNX Runtime session each) measured slower on the 2-core development VM —
 * 2.1 s against 1.2 s for the 12 layers of bench:score — because every worker pays its own ONNX Runtime load, arena
 * warm-up and JIT, and copies SharedArrayBuffer features that onnxruntime-node will not read in place.
 */

/** One layer's features (row-major float32). */
export interface LayerFeatures {
  train: Float32Array;
  test: Float32Array;
}

/** Everything about one layer's scoring except its features. */
export type LayerJobOptions = Omit<BuildBanksOptions, 'train'> &
  Pick<ScoreMachineOptions, 'dnMode' | 'threshold' | 'testDim'>;

export interface ScoreLayersOptions extends LayerJobOptions {
  layers: LayerFeatures[];
  /** Called as each layer finishes (index into `layers`). */
  onLayerDone?: (layer: number) => void;
}

export interface ScoreLayersResult {
  layers: MachineScores[];
  /** Where the matrix products ran: ONNX Runtime, or the JavaScript kernel when it could not load. */
  backend: GramBackendName;
  /** Threads each matrix product used. */
  threads: number;
}

export async function scoreLayers(options: ScoreLayersOptions): Promise<ScoreLayersResult> {
  const { layers, onLayerDone, ...jobOptions } = options;
  const { dnMode, threshold, testDim, ...bankOptions } = jobOptions;
  const backend = await gramBackend();
  const results: MachineScores[] = [];
  for (const [i, layer] of layers.entries()) {
    const banks = buildBanks({ ...bankOptions, train: layer.train });
    results.push(await scoreMachine({ banks, test: layer.test, dnMode, threshold, testDim, names: bankOptions.names }));
    onLayerDone?.(i);
    await new Promise((resolve) => setImmediate(resolve)); // let I/O and progress output through between layers
  }
  return { layers: results, backend: backend.name, threads: backend.threads };
}
