/**
 * What every front-end (worker/src/encoders/frontEnds/) gives the encoder embedder: one clip's features as a
 * row-major [frames × bins] matrix along the front-end's time axis (a waveform front-end: samples × 1). The embedder
 * applies the descriptor's length between `features` and `finish`, then windows, then the encoder input layout
 * (worker/src/embedders/encoderEmbedder.ts). The contract is here, apart from the front-ends, so both sides build on it.
 */
export interface FrontEndOutput {
  data: Float32Array;
  frames: number;
  bins: number;
}

export interface FrontEndRunner {
  /** The model's sample rate (Hz). */
  readonly sampleRate: number;
  /** Feature bins per frame (1 for a waveform); known before any clip, so the model's input can be checked. */
  readonly bins: number;
  /** A 16 kHz mono clip → the waveform the front-end takes: resampled to `sampleRate`, scaled, normalised if asked. */
  toModelRate(clip16k: Float32Array): Float32Array;
  /** The front-end proper (fbank, STFT log-mel, an ONNX model, or the waveform itself as [samples × 1]). */
  features(waveform: Float32Array): Promise<FrontEndOutput>;
  /** What comes after the length is fixed (AST's (x − mean) / (2 · std)); the identity for most front-ends. */
  finish(output: FrontEndOutput): FrontEndOutput;
  dispose(): Promise<void>;
}
