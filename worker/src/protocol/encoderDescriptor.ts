/**
 * An encoder descriptor (`*.encoder.json`, schemas/encoder.schema.json; docs/encoders.md): how to turn a clip into
 * what a pre-trained ONNX audio encoder takes, which of its outputs are features, and how we pool them — so that any
 * encoder gets layer sweeps, caching and scoring exactly as BEATs does. Declared here because the worker (reader,
 * embedder, `genrep model inspect`), the schema and the editor (completion, the embedder setting) share it.
 *
 * Shapes are written as layouts: comma-separated axis letters, `B` batch, `S` samples, `T` time (frames, tokens or
 * windows), `F` frequency (mel bins or frequency patches), `D` feature channels, `L` layers, `1` a unit axis.
 */

/** Families we ship descriptors for (models/encoders/); `custom` for a user's own. */
export type EncoderFamily =
  | 'ast'
  | 'whisper'
  | 'wav2vec2'
  | 'hubert'
  | 'wavlm'
  | 'clap'
  | 'panns'
  | 'efficientat'
  | 'speech-embedding'
  | 'custom';

/** The families above, at run time (descriptor checks, the test stand-ins). */
export const ENCODER_FAMILIES: readonly EncoderFamily[] = [
  'ast',
  'whisper',
  'wav2vec2',
  'hubert',
  'wavlm',
  'clap',
  'panns',
  'efficientat',
  'speech-embedding',
  'custom',
];

/** How a float waveform in [-1, 1) is scaled before the front-end: as is, or to int16 range (× 32768). */
export type WaveformScale = 'unit' | 'int16';

/** The waveform itself, as Wav2Vec2FeatureExtractor / CLAP / PANNs / EfficientAT take it. Time axis = samples. */
export interface WaveformFrontEnd {
  kind: 'waveform';
  /** The model's sample rate (Hz); clips are resampled to it with our resampler. */
  sampleRate: number;
  scale?: WaveformScale;
  /** Per clip zero mean, unit variance: (x − mean) / sqrt(var + 1e-7), as Wav2Vec2FeatureExtractor's do_normalize. */
  normalize?: boolean;
}

/** Kaldi fbank through our exact fbank (worker/src/fbank), as AST's ASTFeatureExtractor. Time axis = frames. */
export interface KaldiFbankFrontEnd {
  kind: 'kaldi-fbank';
  sampleRate: number;
  scale?: WaveformScale;
  /** Any option of our fbank, named as torchaudio.compliance.kaldi.fbank names them (FbankOptions). */
  options: Record<string, number | boolean | string>;
  /** Normalisation after the fbank and length: (x − mean) / (2 · std), ASTFeatureExtractor's (mean −4.2677393, std 4.5689974). */
  astNormalize?: { mean: number; std: number };
}

/**
 * STFT log-mel (torchaudio.transforms.MelSpectrogram / librosa / Whisper's log_mel_spectrogram). Time axis = frames.
 * Names follow torchaudio's MelSpectrogram.
 */
export interface LogMelFrontEnd {
  kind: 'log-mel';
  sampleRate: number;
  scale?: WaveformScale;
  n_fft: number;
  hop_length: number;
  /** Default n_fft. */
  win_length?: number;
  /** Periodic windows, as torch.hann_window's default. */
  window: 'hann' | 'hamming' | 'rectangular';
  /** false: symmetric windows (torch.hann_window(periodic=False), EfficientAT's); default true. */
  periodic?: boolean;
  /** Pad n_fft / 2 on both sides (torch.stft center=True). */
  center: boolean;
  pad_mode?: 'reflect' | 'constant';
  /** 1: magnitude, 2: power. */
  power: 1 | 2;
  n_mels: number;
  f_min: number;
  /** Default sampleRate / 2. */
  f_max?: number;
  /** htk / slaney: torchaudio's melscale_fbanks; kaldi: Kaldi's mel banks (our fbank's, as EfficientAT uses). */
  mel_scale: 'htk' | 'slaney' | 'kaldi';
  /** 'slaney': area-normalised triangles (librosa's default, Whisper's); none otherwise. */
  norm?: 'slaney';
  /**
   * ln / log10 of max(x, amin) (+ offset inside the log when given: log(x + offset)); db: 10·log10(max(x, amin))
   * (power) or 20·log10 (magnitude), then floored at max − top_db where given.
   */
  log: { kind: 'ln' | 'log10' | 'db'; amin?: number; offset?: number; top_db?: number };
  /** Whisper: log10, clamp to (max − 8), then (x + 4) / 4; Whisper also drops the last STFT frame. */
  whisper?: boolean;
  /** Pre-emphasis y[n] = x[n] − c·x[n−1] before the STFT (EfficientAT: 0.97). */
  preemphasis?: number;
  /** Finally (x + offset) / divide (EfficientAT: offset 4.5, divide 5). */
  affine?: { offset: number; divide: number };
}

/** A second ONNX model whose output feeds the encoder (e.g. a mel front-end exported beside its encoder). */
export interface OnnxFrontEnd {
  kind: 'onnx';
  /** The front-end ONNX file, relative to the descriptor's folder. */
  model: string;
  sampleRate: number;
  scale?: WaveformScale;
  /** Input name (default: its only input), fed the waveform as [1, samples] (one clip at a time). */
  input?: string;
  /** Output name (default: its only output). */
  output?: string;
  /** Layout of that output, e.g. 'B,1,T,F'; it must have B and T, and at most F besides unit axes. */
  layout: string;
  /** Finally (x + offset) / divide, as LogMelFrontEnd's (openWakeWord's melspectrogram.onnx: x / 10 + 2 = offset 20, divide 10). */
  affine?: { offset: number; divide: number };
}

export type FrontEnd = WaveformFrontEnd | KaldiFbankFrontEnd | LogMelFrontEnd | OnnxFrontEnd;

/**
 * A fixed or bounded clip length. `on: 'waveform'` applies it to the waveform at the model's sample rate, before the
 * front-end (Whisper pads every clip to 30 s of audio); `on: 'features'` (default) to the front-end's time axis (AST
 * pads its fbank to 1024 frames).
 */
export interface LengthSpec {
  on?: 'waveform' | 'features';
  /** Samples (on the waveform) or frames (on features). */
  frames: number;
  /** crop: at most; pad: at least; exact: both (crop, then zero-pad). */
  mode: 'crop' | 'pad' | 'exact';
  /** What padding frames hold: 0 (default), or a value (e.g. AST pads its fbank with 0 before normalising). */
  padValue?: number;
  /**
   * How a short clip is filled before padding: 'zeros' (default) pads it; 'repeat' first repeats it whole as often as
   * it fits, then pads the remainder (ClapFeatureExtractor's "repeatpad").
   */
  fill?: 'zeros' | 'repeat';
}

/** Encoders with a fixed input length run over windows of the time axis; window outputs are stacked along time. */
export interface WindowSpec {
  /** Window length along the front-end's time axis (samples for waveform front-ends, frames otherwise). */
  frames: number;
  hop: number;
  /** A clip shorter than one window, or a last partial window: zero-padded ('pad', default) or dropped ('drop'). */
  last?: 'pad' | 'drop';
}

/** A constant fed to an extra input (attention masks, sample-rate scalars, state). */
export interface ConstantInput {
  dtype: 'float32' | 'int64' | 'int32' | 'bool';
  /** Shape with 'B' for the batch axis (e.g. ['B', 480000]) or numbers. */
  shape: (number | 'B')[];
  /** One value filling the tensor. */
  value: number;
}

/**
 * One output holding features. `layout` says what it is: a vector 'B,D', a sequence 'B,T,D' (or 'B,D,T'), a grid
 * 'B,T,F,D' (or 'B,D,F,T' …), or stacked hidden states 'L,B,T,D' / 'B,L,T,D' (L layers at once).
 */
export interface OutputSpec {
  name: string;
  layout: string;
}

export interface EncoderDescriptor {
  $schema?: string;
  /** Shown in lists and results. The feature cache key includes the whole descriptor's content and model hashes. */
  name: string;
  family?: EncoderFamily;
  /** Where a user gets the weights / ONNX export (shown by `genrep model list`). */
  source?: string;
  /** The encoder ONNX file, relative to the descriptor's folder (or absolute). */
  model: string;
  frontEnd: FrontEnd;
  /** Per clip length along the front-end's time axis, before windows. */
  length?: LengthSpec;
  window?: WindowSpec;
  /** The encoder input the front-end feeds: its name (default: the one input not in `constants`) and layout. */
  input: { name?: string; layout: string };
  constants?: Record<string, ConstantInput>;
  /**
   * The feature outputs, in layer order: layer 1 is the first output's first layer. An entry whose layout has L adds
   * L layers; `names` with a `{n}` placeholder (e.g. 'hidden_states.{n}', with `count`) adds one layer per output.
   */
  outputs: (OutputSpec | { names: string; from: number; count: number; layout: string })[];
  /** Per-layer summary over time: mean (default) or mean and std concatenated ([mean, std], 2·D). */
  statistics?: 'mean' | 'mean+std';
}
