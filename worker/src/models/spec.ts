/**
 * What to build an embedder from: the weight-free default, a BEATs checkpoint, a graph converted from one, or a
 * user's ONNX encoder. The CLI and the run configuration both produce one (names and paths through resolveModel,
 * which is why it lives here, below the embedders).
 */
export type EmbedderSpec =
  | { kind: 'fbank-stats' }
  /** A BEATs .pt checkpoint, converted once to ONNX and cached by its sha256. */
  | { kind: 'beats'; checkpoint: string; quantize?: 'int8' }
  /** A graph this project converted earlier (`genrep model convert`), recognised by its layer outputs. */
  | { kind: 'beats-onnx'; path: string }
  /** Any ONNX audio encoder: one input (waveform [B, samples] or fbank [B, 998, 128]) and a named output. */
  | { kind: 'onnx'; path: string; input: 'waveform' | 'fbank'; output: string }
  /** Any pre-trained encoder an `*.encoder.json` descriptor describes (worker/src/encoders/). */
  | { kind: 'encoder'; descriptor: string };
