/**
 * The one interface between feature extraction and everything downstream (memory banks, scoring, caches): clips in,
 * one [clips × dim] matrix per requested layer out. Implementations: BEATs through ONNX Runtime, the weight-free
 * `fbank-stats` default, and a user-supplied ONNX audio encoder.
 */

import type { Pooling } from '../protocol/vocabulary';
import type { FrontEndRunner } from '../encoders/frontEnd';
import type { FrontEnd } from '../protocol/encoderDescriptor';
import type { StageTimes } from '../util/stageTimes';

export interface EmbedOptions {
  /** Layer indices as the embedder numbers them (BEATs: 1..L blocks, 0 = encoder input; others: 1). */
  layers: number[];
  pooling: Pooling;
  signal?: AbortSignal;
  /** Called after each batch with clips done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Clips per forward pass; defaults to the embedder's own choice. */
  batchSize?: number;
  /** Where the front-end's and the encoder's time is added (`genrep run --profile`). */
  stageTimes?: StageTimes;
}

export interface Embedder {
  /** Stable identity for feature caches: changes whenever the features could ('beats:<sha256>', 'fbank-stats:v1'). */
  readonly id: string;
  /** Highest valid layer index; layers are numbered 1..numLayers. */
  readonly numLayers: number;
  /** The execution provider actually in use ('cpu', 'cuda'), or 'js' for pure TypeScript embedders. */
  readonly provider: string;
  /**
   * How many leading 16 kHz samples of a clip the embedder uses (BEATs: 160000, the first 10 s); readers decode
   * and resample only those. Undefined: the whole clip.
   */
  readonly clipSamples?: number;
  /** Length of one clip's vector for this pooling. */
  dim(pooling: Pooling): number;
  /** 16 kHz mono waveforms → per requested layer (in the order given), a row-major [clips × dim] matrix. */
  embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

export type { EmbedderSpec } from '../models/spec';

export interface EmbedderOptions {
  /** Where downloaded/official checkpoints live (Settings.modelDir); a model name needs it to resolve. */
  modelDir?: string;
  /** Where converted ONNX graphs are cached (Settings.cacheDir); a BEATs .pt checkpoint needs it. */
  cacheDir?: string;
  /** ONNX Runtime intra-op threads; defaults to the machine's core count. */
  threads?: number;
  /** 'auto' tries CUDA then falls back to CPU; 'cpu' never tries CUDA. */
  device?: 'auto' | 'cpu' | 'cuda';
  /** Builds an encoder descriptor's front-end (tests inject their own); defaults to worker/src/encoders/frontEnds. */
  frontEndFactory?: FrontEndFactory;
}

/** What builds an encoder descriptor's front-end: createFrontEnd in worker/src/encoders/frontEnds. */
export type FrontEndFactory = (
  frontEnd: FrontEnd,
  baseDir: string,
  options: { threads?: number },
) => Promise<FrontEndRunner>;
