import type { EncoderDescriptor, EncoderFamily } from '../protocol/encoderDescriptor';
import { outputNames } from './descriptorShape';
import type { OnnxSignature, TensorSignature } from './onnxSignature';

/**
 * Which shipped descriptor fits an ONNX model (`genrep model inspect`): by input/output names, ranks, dtypes and the
 * fixed sizes a descriptor implies, and by a Hugging Face folder's preprocessor_config.json / config.json where
 * present. Pure: the caller reads the files.
 */

export interface HfFolderHints {
  /** preprocessor_config.json's feature_extractor_type. */
  featureExtractorType?: string;
  /** config.json's model_type. */
  modelType?: string;
  /** preprocessor_config.json's sampling_rate and do_normalize: a checkpoint's own front-end settings. */
  samplingRate?: number;
  doNormalize?: boolean;
}

export interface DescriptorVerdict {
  id: string;
  descriptor: EncoderDescriptor;
  /** Empty when the descriptor fits; otherwise each input/output (or hint) that does not. */
  reasons: string[];
}

const EXTRACTOR_FAMILIES: Record<string, readonly EncoderFamily[]> = {
  ASTFeatureExtractor: ['ast'],
  WhisperFeatureExtractor: ['whisper'],
  Wav2Vec2FeatureExtractor: ['wav2vec2', 'hubert', 'wavlm'],
  ClapFeatureExtractor: ['clap'],
};

const MODEL_TYPE_FAMILIES: Record<string, EncoderFamily> = {
  'audio-spectrogram-transformer': 'ast',
  whisper: 'whisper',
  wav2vec2: 'wav2vec2',
  hubert: 'hubert',
  wavlm: 'wavlm',
  clap: 'clap',
  clap_audio_model: 'clap',
};

const show = (shape: TensorSignature['shape']): string => (shape ? `[${shape.join(', ')}]` : 'no recorded shape');

/** Feature bins per frame a front-end gives, where its parameters fix them. */
function frontEndBins(d: EncoderDescriptor): number | undefined {
  const fe = d.frontEnd;
  if (fe.kind === 'kaldi-fbank') {
    const bins = fe.options['num_mel_bins'];
    // torchaudio.compliance.kaldi.fbank's default.
    return typeof bins === 'number' ? bins : 23;
  }
  if (fe.kind === 'log-mel') return fe.n_mels;
  return undefined;
}

/** Frames (or samples) on the encoder input's time axis that the descriptor always produces, where fixed. */
function fixedTime(d: EncoderDescriptor): number | undefined {
  if (d.window) return d.window.frames;
  const length = d.length;
  if (!length || length.mode !== 'exact') return undefined;
  if ((length.on ?? 'features') === 'features' || d.frontEnd.kind === 'waveform') return length.frames;
  const fe = d.frontEnd;
  if (fe.kind !== 'log-mel') return undefined;
  const frames = fe.center
    ? Math.floor(length.frames / fe.hop_length) + 1
    : Math.floor((length.frames - (fe.win_length ?? fe.n_fft)) / fe.hop_length) + 1;
  return fe.whisper === true ? frames - 1 : frames;
}

function checkInput(d: EncoderDescriptor, inputs: TensorSignature[], reasons: string[]): void {
  const constants = new Set(Object.keys(d.constants ?? {}));
  for (const name of constants)
    if (!inputs.some((i) => i.name === name)) reasons.push(`constant input '${name}' is not a model input`);
  let input: TensorSignature | undefined;
  if (d.input.name !== undefined) {
    input = inputs.find((i) => i.name === d.input.name);
    if (!input) {
      reasons.push(`input '${d.input.name}' not found (model inputs: ${inputs.map((i) => i.name).join(', ')})`);
      return;
    }
  } else {
    const free = inputs.filter((i) => !constants.has(i.name));
    if (free.length !== 1) {
      reasons.push(`input: no name given and the model has ${free.length} non-constant inputs`);
      return;
    }
    input = free[0]!;
  }
  for (const other of inputs)
    if (other !== input && !constants.has(other.name))
      reasons.push(`model input '${other.name}' is neither the encoder input nor a declared constant`);
  if (input.dtype !== 'float32') reasons.push(`input '${input.name}' is ${input.dtype}, expected float32`);
  const axes = d.input.layout.split(',');
  if (!input.shape) return;
  if (input.shape.length !== axes.length) {
    reasons.push(
      `input '${input.name}' has rank ${input.shape.length} ${show(input.shape)}, the layout ${d.input.layout} has ${axes.length}`,
    );
    return;
  }
  const expected: Record<string, number | undefined> = { '1': 1, F: frontEndBins(d), T: fixedTime(d) };
  if (d.frontEnd.kind === 'waveform') expected['S'] = expected['T'];
  axes.forEach((axis, k) => {
    const want = expected[axis];
    const got = input.shape![k];
    if (typeof got === 'number' && want !== undefined && got !== want)
      reasons.push(`input '${input.name}' axis ${k} (${axis}) is ${got}, the descriptor gives ${want}`);
    if (typeof got === 'number' && axis === 'T' && want === undefined && d.frontEnd.kind !== 'waveform')
      reasons.push(
        `input '${input.name}' axis ${k} (T) is fixed at ${got} but the descriptor sets no exact length or window`,
      );
  });
}

function checkOutputs(d: EncoderDescriptor, outputs: TensorSignature[], reasons: string[]): void {
  let index = 0;
  for (const spec of d.outputs) {
    const names = 'names' in spec ? outputNames({ ...d, outputs: [spec] }) : [spec.name];
    const rank = spec.layout.split(',').length;
    for (const name of names) {
      index += 1;
      const out = outputs.find((o) => o.name === name);
      if (!out) {
        reasons.push(`output '${name}' not found (model outputs: ${outputs.map((o) => o.name).join(', ')})`);
        continue;
      }
      if (out.dtype !== 'float32') reasons.push(`output '${name}' is ${out.dtype}, expected float32`);
      if (out.shape && out.shape.length !== rank)
        reasons.push(
          `output '${name}' has rank ${out.shape.length} ${show(out.shape)}, the layout ${spec.layout} has ${rank}`,
        );
      if (out.shape)
        spec.layout.split(',').forEach((axis, k) => {
          const got = out.shape![k];
          if (axis === '1' && typeof got === 'number' && got !== 1)
            reasons.push(`output '${name}' axis ${k} is ${got}, the layout ${spec.layout} has a unit axis there`);
        });
    }
  }
  if (index === 0) reasons.push('the descriptor names no output');
}

function checkHints(d: EncoderDescriptor, hints: HfFolderHints, reasons: string[]): void {
  if (hints.samplingRate !== undefined && hints.samplingRate !== d.frontEnd.sampleRate)
    reasons.push(
      `preprocessor_config.json sampling_rate ${hints.samplingRate}, the descriptor's frontEnd.sampleRate ${d.frontEnd.sampleRate}`,
    );
  // Checkpoints of one family differ here (wav2vec2-large-lv60 normalises, wav2vec2-base … per its config).
  if (
    hints.doNormalize !== undefined &&
    d.frontEnd.kind === 'waveform' &&
    (d.frontEnd.normalize ?? false) !== hints.doNormalize
  )
    reasons.push(
      `preprocessor_config.json do_normalize ${hints.doNormalize}, the descriptor's frontEnd.normalize ${d.frontEnd.normalize ?? false}`,
    );
  const family = d.family;
  if (family === undefined || family === 'custom') return;
  if (hints.modelType !== undefined) {
    const wanted = MODEL_TYPE_FAMILIES[hints.modelType];
    if (wanted !== undefined && wanted !== family)
      reasons.push(`config.json model_type '${hints.modelType}' is the ${wanted} family, not ${family}`);
  }
  if (hints.featureExtractorType !== undefined) {
    const families = EXTRACTOR_FAMILIES[hints.featureExtractorType];
    if (families !== undefined && !families.includes(family))
      reasons.push(
        `preprocessor_config.json feature_extractor_type '${hints.featureExtractorType}' belongs to ${families.join(' / ')}, not ${family}`,
      );
  }
}

export function judgeDescriptor(
  id: string,
  descriptor: EncoderDescriptor,
  signature: Pick<OnnxSignature, 'inputs' | 'outputs'>,
  hints: HfFolderHints = {},
): DescriptorVerdict {
  const reasons: string[] = [];
  checkHints(descriptor, hints, reasons);
  checkInput(descriptor, signature.inputs, reasons);
  checkOutputs(descriptor, signature.outputs, reasons);
  return { id, descriptor, reasons };
}

/** Every descriptor's verdict, the fitting ones first (in the order given). */
export function matchDescriptors(
  descriptors: ReadonlyArray<{ id: string; descriptor: EncoderDescriptor }>,
  signature: Pick<OnnxSignature, 'inputs' | 'outputs'>,
  hints: HfFolderHints = {},
): DescriptorVerdict[] {
  const verdicts = descriptors.map((d) => judgeDescriptor(d.id, d.descriptor, signature, hints));
  return [...verdicts.filter((v) => v.reasons.length === 0), ...verdicts.filter((v) => v.reasons.length > 0)];
}

/**
 * An ONNX front-end's model against its descriptor and the encoder it feeds: the waveform input ([1, samples]
 * float32), the output read through `frontEnd.layout`, and its fixed F against the encoder input's F. Reasons start
 * with "front-end" so they read apart from the encoder's.
 */
export function judgeOnnxFrontEnd(
  descriptor: EncoderDescriptor,
  frontEnd: Pick<OnnxSignature, 'inputs' | 'outputs'>,
  encoder: Pick<OnnxSignature, 'inputs'>,
): string[] {
  const fe = descriptor.frontEnd;
  if (fe.kind !== 'onnx') return [];
  const reasons: string[] = [];
  const pick = (given: string | undefined, list: TensorSignature[], which: 'input' | 'output') => {
    const names = list.map((t) => t.name).join(', ');
    if (given !== undefined) {
      const found = list.find((t) => t.name === given);
      if (!found) reasons.push(`front-end ${which} '${given}' not found (front-end model ${which}s: ${names})`);
      return found;
    }
    if (list.length !== 1)
      reasons.push(`front-end ${which}: none named and the front-end model has ${list.length} ${which}s (${names})`);
    return list.length === 1 ? list[0] : undefined;
  };
  const input = pick(fe.input, frontEnd.inputs, 'input');
  if (input) {
    if (input.dtype !== 'float32') reasons.push(`front-end input '${input.name}' is ${input.dtype}, expected float32`);
    if (input.shape && input.shape.length !== 2)
      reasons.push(`front-end input '${input.name}' is ${show(input.shape)}, expected rank 2 ([1, samples])`);
  }
  const output = pick(fe.output, frontEnd.outputs, 'output');
  if (!output) return reasons;
  if (output.dtype !== 'float32')
    reasons.push(`front-end output '${output.name}' is ${output.dtype}, expected float32`);
  const axes = fe.layout.split(',').map((a) => a.trim());
  if (!output.shape) return reasons;
  if (output.shape.length !== axes.length) {
    reasons.push(
      `front-end output '${output.name}' has rank ${output.shape.length} ${show(output.shape)}, frontEnd.layout ${fe.layout} has ${axes.length}`,
    );
    return reasons;
  }
  axes.forEach((axis, k) => {
    const got = output.shape![k];
    if (axis === '1' && typeof got === 'number' && got !== 1)
      reasons.push(
        `front-end output '${output.name}' axis ${k} is ${got}, frontEnd.layout ${fe.layout} has a unit axis there`,
      );
  });
  // The bins the front-end gives must be the bins the encoder takes, where both are fixed.
  const fFrontEnd = axes.includes('F') ? output.shape[axes.indexOf('F')] : 1;
  const encoderAxes = descriptor.input.layout.split(',');
  const free = encoder.inputs.filter((i) => !(i.name in (descriptor.constants ?? {})));
  const encoderInput =
    descriptor.input.name !== undefined
      ? encoder.inputs.find((i) => i.name === descriptor.input.name)
      : free.length === 1
        ? free[0]
        : undefined;
  const fIndex = encoderAxes.indexOf('F');
  const fEncoder =
    fIndex >= 0 && encoderInput?.shape?.length === encoderAxes.length ? encoderInput.shape[fIndex] : undefined;
  if (typeof fFrontEnd === 'number' && typeof fEncoder === 'number' && fFrontEnd !== fEncoder)
    reasons.push(
      `front-end output '${output.name}' gives ${fFrontEnd} bins (F); encoder input '${encoderInput!.name}' takes ${fEncoder}`,
    );
  return reasons;
}
