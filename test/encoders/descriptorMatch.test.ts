import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeDescriptor, matchDescriptors } from '../../worker/src/encoders/descriptorMatch';
import { descriptorProblems, isEncoderDescriptor, outputNames } from '../../worker/src/encoders/descriptorShape';
import { formatInspection, inspectModel } from '../../worker/src/encoders/inspectModel';
import type { OnnxSignature } from '../../worker/src/encoders/onnxSignature';
import { readOnnxSignature } from '../../worker/src/encoders/onnxSignature';
import { shippedDescriptors, shippedDescriptorsDir } from '../../worker/src/encoders/shippedDescriptors';
import type { EncoderDescriptor } from '../../worker/src/protocol/encoderDescriptor';
import { buildFamilyModel } from '../helpers/familyModels';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-descriptor-match-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shipped(id: string): EncoderDescriptor {
  const found = shippedDescriptors().find((d) => d.id === id);
  if (!found) throw new Error(`no shipped descriptor ${id}`);
  return found.descriptor;
}

const whisperSignature: Pick<OnnxSignature, 'inputs' | 'outputs'> = {
  inputs: [{ name: 'input_features', dtype: 'float32', shape: ['batch_size', 80, 3000] }],
  outputs: [{ name: 'last_hidden_state', dtype: 'float32', shape: ['batch_size', 1500, 512] }],
};

describe('shipped encoder descriptors', () => {
  it('one per family, each shaped like EncoderDescriptor', () => {
    const all = shippedDescriptors();
    const families = new Set(all.map((d) => d.descriptor.family));
    for (const family of ['ast', 'whisper', 'wav2vec2', 'hubert', 'wavlm', 'clap', 'panns', 'efficientat'])
      expect(families, family).toContain(family);
    expect(families).toContain('speech-embedding');
    for (const { id, file } of all) {
      const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
      expect(descriptorProblems(raw), id).toEqual([]);
      expect(isEncoderDescriptor(raw)).toBe(true);
      expect((raw as EncoderDescriptor).source, `${id} says where the weights come from`).toMatch(/\S/);
    }
    expect(shippedDescriptorsDir()).toMatch(/models[\\/]encoders$/);
  });

  it('names every layer of the self-supervised models', () => {
    expect(outputNames(shipped('wavlm-base'))).toEqual(Array.from({ length: 12 }, (_, i) => `hidden_states.${i + 1}`));
  });
});

describe('descriptorProblems', () => {
  it('names each misshapen field by its JSON pointer', () => {
    const bad = {
      ...shipped('whisper-base'),
      frontEnd: { ...shipped('whisper-base').frontEnd, window: 'kaiser', extra: 1 },
      outputs: [{ names: 'hidden_states', from: 1, count: 0, layout: 'B,X' }],
    };
    expect(descriptorProblems(bad)).toEqual([
      '/frontEnd/extra: unknown field',
      '/frontEnd/window: one of "hann", "hamming", "rectangular"',
      "/outputs/0/layout: a layout such as 'B,T,D' (axes B S T F D L 1)",
      "/outputs/0/names: a name with '{n}'",
      '/outputs/0/count: an integer ≥ 1',
    ]);
    expect(descriptorProblems([])).toEqual(['/: an object']);
    expect(descriptorProblems({ name: 'x', model: 'm.onnx', input: { layout: 'B,S' }, outputs: [] })).toEqual([
      '/frontEnd: an object',
      '/outputs: a non-empty array',
    ]);
  });
});

describe('descriptor matching', () => {
  it('fits Whisper base and small (same I/O), and says why the others do not', () => {
    const verdicts = matchDescriptors(shippedDescriptors(), whisperSignature);
    const fitting = verdicts.filter((v) => v.reasons.length === 0).map((v) => v.id);
    expect(fitting).toEqual(['whisper-base', 'whisper-small']);
    const ast = verdicts.find((v) => v.id === 'ast-audioset')!;
    expect(ast.reasons).toEqual([
      "input 'input_values' not found (model inputs: input_features)",
      "output 'hidden_states.1' not found (model outputs: last_hidden_state)",
      ...Array.from(
        { length: 11 },
        (_, i) => `output 'hidden_states.${i + 2}' not found (model outputs: last_hidden_state)`,
      ),
    ]);
    const clap = verdicts.find((v) => v.id === 'clap-htsat-unfused')!;
    expect(clap.reasons).toContain(
      "input 'input_features' has rank 3 [batch_size, 80, 3000], the layout B,1,T,F has 4",
    );
  });

  it('checks the fixed sizes a descriptor implies: mel bins and Whisper’s 3000 frames from 30 s', () => {
    const tooShort = {
      ...whisperSignature,
      inputs: [{ name: 'input_features', dtype: 'float32', shape: ['batch_size', 128, 1500] }],
    };
    expect(judgeDescriptor('whisper-base', shipped('whisper-base'), tooShort).reasons).toEqual([
      "input 'input_features' axis 1 (F) is 128, the descriptor gives 80",
      "input 'input_features' axis 2 (T) is 1500, the descriptor gives 3000",
    ]);
  });

  it('refuses an extra input that is not a declared constant, an int64 input and a non-unit axis', () => {
    const signature = {
      inputs: [
        { name: 'input_1', dtype: 'int64', shape: ['b', 76, 32, 1] },
        { name: 'state', dtype: 'float32', shape: [1, 4] },
      ],
      outputs: [{ name: 'conv2d_19', dtype: 'float32', shape: ['b', 2, 1, 96] }],
    };
    expect(judgeDescriptor('speech-embedding', shipped('speech-embedding'), signature).reasons).toEqual([
      "model input 'state' is neither the encoder input nor a declared constant",
      "input 'input_1' is int64, expected float32",
      "output 'conv2d_19' axis 1 is 2, the layout B,1,1,D has a unit axis there",
    ]);
  });

  it('takes the family from a Hugging Face folder’s config.json and preprocessor_config.json', () => {
    const signature = readOnnxSignature(writeModel('wav', buildFamilyModel('hubert').model));
    const noHints = matchDescriptors(shippedDescriptors(), signature).filter((v) => v.reasons.length === 0);
    expect(noHints.map((v) => v.id)).toEqual(['hubert-base', 'wav2vec2-base', 'wavlm-base']);
    const hinted = matchDescriptors(shippedDescriptors(), signature, {
      modelType: 'wavlm',
      featureExtractorType: 'Wav2Vec2FeatureExtractor',
    });
    expect(hinted.filter((v) => v.reasons.length === 0).map((v) => v.id)).toEqual(['wavlm-base']);
    expect(hinted.find((v) => v.id === 'hubert-base')!.reasons).toEqual([
      "config.json model_type 'wavlm' is the wavlm family, not hubert",
    ]);
    const normalised = matchDescriptors(shippedDescriptors(), signature, { modelType: 'wavlm', doNormalize: true });
    expect(normalised.find((v) => v.id === 'wavlm-base')!.reasons).toEqual([
      "preprocessor_config.json do_normalize true, the descriptor's frontEnd.normalize false",
    ]);
    const at8k = matchDescriptors(shippedDescriptors(), signature, { modelType: 'hubert', samplingRate: 8000 });
    expect(at8k.find((v) => v.id === 'hubert-base')!.reasons).toEqual([
      "preprocessor_config.json sampling_rate 8000, the descriptor's frontEnd.sampleRate 16000",
    ]);
    const whisper = matchDescriptors(shippedDescriptors(), signature, {
      featureExtractorType: 'WhisperFeatureExtractor',
    });
    expect(whisper.find((v) => v.id === 'wavlm-base')!.reasons).toEqual([
      "preprocessor_config.json feature_extractor_type 'WhisperFeatureExtractor' belongs to whisper, not wavlm",
    ]);
  });
});

function writeModel(name: string, bytes: Uint8Array, folder = dir): string {
  const file = path.join(folder, `${name}.onnx`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

describe('inspectModel', () => {
  it('reads an optimum-style folder: onnx/model.onnx, its producer and opset, and the descriptor it would use', () => {
    const folder = path.join(dir, 'wavlm-export');
    writeModel('onnx/model', buildFamilyModel('wavlm').model, folder);
    writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ model_type: 'wavlm' }));
    writeFileSync(
      path.join(folder, 'preprocessor_config.json'),
      JSON.stringify({ feature_extractor_type: 'Wav2Vec2FeatureExtractor', do_normalize: false }),
    );
    const text = formatInspection(inspectModel(folder));
    expect(text).toContain(`${path.join(folder, 'onnx', 'model.onnx')}\n`);
    expect(text).toContain('producer: genrep test stand-in, IR version 8\n');
    expect(text).toContain('opsets: ai.onnx 17\n');
    expect(text).toContain('inputs:\n  input_values  float32  [batch_size, sequence_length]\n');
    expect(text).toContain('  hidden_states.12  float32  [batch_size, sequence_length, 8]\n');
    expect(text).toContain('preprocessor_config.json: sampling_rate (not given), do_normalize false\n');
    expect(text).toContain('descriptor: wavlm-base (models/encoders/wavlm-base.encoder.json)\n');
  });

  it('says why no descriptor fits', () => {
    const file = writeModel('odd', buildFamilyModel('efficientat').model);
    const bytes = readFileSync(file);
    // The same graph with its input renamed: no shipped descriptor reads 'mel_in'.
    const renamed = Buffer.from(bytes.toString('latin1').replaceAll('\x03mel', '\x03mex'), 'latin1');
    const text = formatInspection(inspectModel(writeModel('odd2', renamed)));
    expect(text).toContain('descriptor: none of the shipped descriptors fits');
    expect(text).toContain("  efficientat-mn10-as: input 'mel' not found (model inputs: mex)\n");
  });

  it('refuses a file that is not an ONNX model with the file named', () => {
    const file = path.join(dir, 'not.onnx');
    writeFileSync(file, 'hello, this is text');
    expect(() => inspectModel(file)).toThrow(/not\.onnx: not an ONNX model/);
  });
});
