/**
 * A Hugging Face export folder (onnx/model.onnx, preprocessor_config.json, config.json) read as an encoder
 * descriptor: the feature extractor's fields become the front-end, length and input layout (named as
 * transformers names them), the model's own input and output names the rest. What is not understood is refused
 * naming the field.
 */

import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fileError } from '../errors';
import { openSession } from '../onnx/runtime';
import type { EncoderDescriptor, EncoderFamily, FrontEnd, LengthSpec } from '../protocol/encoderDescriptor';

const FAMILIES: readonly string[] = ['ast', 'whisper', 'wav2vec2', 'hubert', 'wavlm', 'clap'];

/** The ONNX files an export may hold, the encoder first where a model splits in two (Whisper). */
const MODEL_FILES = ['onnx/encoder_model.onnx', 'onnx/model.onnx', 'encoder_model.onnx', 'model.onnx'];

type Json = Record<string, unknown>;

async function readJson(file: string): Promise<Json> {
  try {
    const value = JSON.parse(await fsp.readFile(file, 'utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
  } catch (err) {
    throw fileError(file, `cannot read it as JSON: ${(err as Error).message}`, 'BAD_INPUT');
  }
  throw fileError(file, 'is not a JSON object', 'BAD_INPUT');
}

/** The feature extractor's fields, mapped; `field` names the one a problem is about. */
function fields(file: string, pre: Json) {
  const number = (name: string, fallback?: number): number => {
    const value = pre[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw fileError(file, `${name}: expected a number, found ${JSON.stringify(pre[name])}`, 'BAD_INPUT', {
        field: name,
      });
    }
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const value = pre[name] ?? fallback;
    if (typeof value !== 'boolean') {
      throw fileError(file, `${name}: expected true or false, found ${JSON.stringify(value)}`, 'BAD_INPUT', {
        field: name,
      });
    }
    return value;
  };
  return { number, flag };
}

interface Mapped {
  frontEnd: FrontEnd;
  length?: LengthSpec;
  /** The input the extractor's output feeds, as transformers names it, and its layout. */
  inputName: string;
  layout: string;
}

function mapExtractor(file: string, pre: Json): Mapped {
  const type = pre['feature_extractor_type'];
  const { number, flag } = fields(file, pre);
  switch (type) {
    case 'ASTFeatureExtractor': {
      const sampleRate = number('sampling_rate', 16000);
      return {
        // ASTFeatureExtractor calls torchaudio.compliance.kaldi.fbank with these options.
        frontEnd: {
          kind: 'kaldi-fbank',
          sampleRate,
          options: {
            htk_compat: true,
            sample_frequency: sampleRate,
            use_energy: false,
            window_type: 'hanning',
            num_mel_bins: number('num_mel_bins', 128),
            dither: 0,
            frame_shift: 10,
          },
          ...(flag('do_normalize', true)
            ? { astNormalize: { mean: number('mean', -4.2677393), std: number('std', 4.5689974) } }
            : {}),
        },
        length: { frames: number('max_length', 1024), mode: 'exact', padValue: 0 },
        inputName: 'input_values',
        layout: 'B,T,F',
      };
    }
    case 'WhisperFeatureExtractor': {
      const sampleRate = number('sampling_rate', 16000);
      return {
        frontEnd: {
          kind: 'log-mel',
          sampleRate,
          n_fft: number('n_fft', 400),
          hop_length: number('hop_length', 160),
          window: 'hann',
          center: true,
          pad_mode: 'reflect',
          power: 2,
          n_mels: number('feature_size', 80),
          f_min: 0,
          f_max: sampleRate / 2,
          mel_scale: 'slaney',
          norm: 'slaney',
          log: { kind: 'log10', amin: 1e-10 },
          whisper: true,
        },
        // Whisper pads every clip to chunk_length seconds of audio before its log-mel.
        length: { on: 'waveform', frames: number('chunk_length', 30) * sampleRate, mode: 'exact' },
        inputName: 'input_features',
        layout: 'B,F,T',
      };
    }
    case 'Wav2Vec2FeatureExtractor': {
      if (number('feature_size', 1) !== 1) {
        throw fileError(
          file,
          `feature_size: ${number('feature_size')} is not understood; a waveform has 1`,
          'BAD_INPUT',
          {
            field: 'feature_size',
            expected: '1',
          },
        );
      }
      return {
        frontEnd: {
          kind: 'waveform',
          sampleRate: number('sampling_rate', 16000),
          normalize: flag('do_normalize', true),
        },
        inputName: 'input_values',
        layout: 'B,S',
      };
    }
    default:
      throw fileError(
        file,
        `feature_extractor_type ${JSON.stringify(type)} is not understood; known: ASTFeatureExtractor, WhisperFeatureExtractor, Wav2Vec2FeatureExtractor (write an .encoder.json for others)`,
        'UNSUPPORTED',
        {
          field: 'feature_extractor_type',
          expected: 'ASTFeatureExtractor | WhisperFeatureExtractor | Wav2Vec2FeatureExtractor',
        },
      );
  }
}

/** A Hugging Face export folder → the descriptor it amounts to, model paths relative to the folder. */
export async function readHuggingFaceFolder(folder: string): Promise<EncoderDescriptor> {
  const preFile = path.join(folder, 'preprocessor_config.json');
  const mapped = mapExtractor(preFile, await readJson(preFile));
  const configFile = path.join(folder, 'config.json');
  const modelType = existsSync(configFile) ? (await readJson(configFile))['model_type'] : undefined;
  const model = MODEL_FILES.find((m) => existsSync(path.join(folder, m)));
  if (model === undefined) {
    throw fileError(folder, `has no ONNX export (looked for ${MODEL_FILES.join(', ')})`, 'NOT_FOUND', {
      expected: MODEL_FILES.join(' | '),
    });
  }
  const modelFile = path.join(folder, model);
  const { session } = await openSession(modelFile, { threads: 1, device: 'cpu' });
  try {
    const { inputNames, outputNames } = session;
    const inputName = inputNames.includes(mapped.inputName)
      ? mapped.inputName
      : inputNames.length === 1
        ? inputNames[0]
        : undefined;
    if (inputName === undefined || inputNames.length > 1) {
      throw fileError(
        modelFile,
        `inputs ${inputNames.join(', ')}: the folder's reader feeds only ${mapped.inputName}; write an .encoder.json with constants for the others`,
        'UNSUPPORTED',
        { field: 'input', expected: mapped.inputName },
      );
    }
    // Every layer where the export has them (hidden_states.0 is the embeddings, as transformers counts), else the last.
    const hidden = outputNames
      .map((n) => /^hidden_states[._](\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const separator = outputNames.some((n) => n.startsWith('hidden_states.')) ? '.' : '_';
    let outputs: EncoderDescriptor['outputs'];
    const first = hidden[0];
    if (first !== undefined && hidden.every((n, i) => n === first + i)) {
      outputs = [{ names: `hidden_states${separator}{n}`, from: first, count: hidden.length, layout: 'B,T,D' }];
    } else if (outputNames.includes('last_hidden_state')) {
      outputs = [{ name: 'last_hidden_state', layout: 'B,T,D' }];
    } else {
      throw fileError(
        modelFile,
        `outputs ${outputNames.join(', ')}: none is last_hidden_state or hidden_states.<n>; write an .encoder.json naming the feature outputs`,
        'UNSUPPORTED',
        { field: 'outputs', expected: 'last_hidden_state | hidden_states.<n>' },
      );
    }
    const family: EncoderFamily =
      typeof modelType === 'string' && FAMILIES.includes(modelType) ? (modelType as EncoderFamily) : 'custom';
    return {
      name: path.basename(path.resolve(folder)),
      family,
      model,
      frontEnd: mapped.frontEnd,
      ...(mapped.length ? { length: mapped.length } : {}),
      input: { name: inputName, layout: mapped.layout },
      outputs,
    };
  } finally {
    await session.release();
  }
}
