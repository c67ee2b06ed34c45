import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { GenrepError } from '../errors';
import type { DescriptorVerdict, HfFolderHints } from './descriptorMatch';
import { matchDescriptors } from './descriptorMatch';
import type { OnnxSignature, TensorSignature } from './onnxSignature';
import { readOnnxSignature } from './onnxSignature';
import { shippedDescriptors } from './shippedDescriptors';

/** `genrep model inspect`: an ONNX file or a Hugging Face / optimum / transformers.js export folder. */
export interface Inspection {
  model: string;
  signature: OnnxSignature;
  hints: HfFolderHints;
  verdicts: DescriptorVerdict[];
}

/** The encoder file in an export folder: optimum's model.onnx / encoder_model.onnx, transformers.js' onnx/ folder. */
const FOLDER_CANDIDATES = [
  'model.onnx',
  'encoder_model.onnx',
  'audio_model.onnx',
  'onnx/model.onnx',
  'onnx/encoder_model.onnx',
  'onnx/audio_model.onnx',
];

function readJsonObject(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GenrepError(`${file}: not JSON (${(err as Error).message})`, 'BAD_INPUT', { file });
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function inspectModel(target: string): Inspection {
  if (!existsSync(target)) throw new GenrepError(`${target}: no such file or folder`, 'NOT_FOUND', { file: target });
  let model = target;
  const hints: HfFolderHints = {};
  if (statSync(target).isDirectory()) {
    const found = FOLDER_CANDIDATES.map((c) => path.join(target, c)).find((f) => existsSync(f));
    if (!found) {
      const onnxFiles = readdirSync(target).filter((f) => f.endsWith('.onnx'));
      if (onnxFiles.length !== 1)
        throw new GenrepError(
          `${target}: no encoder ONNX found (looked for ${FOLDER_CANDIDATES.join(', ')}${onnxFiles.length > 1 ? `; several .onnx files: ${onnxFiles.join(', ')} — name one` : ''})`,
          'NOT_FOUND',
          { file: target },
        );
      model = path.join(target, onnxFiles[0]!);
    } else model = found;
    const preprocessor = readJsonObject(path.join(target, 'preprocessor_config.json'));
    const config = readJsonObject(path.join(target, 'config.json'));
    if (typeof preprocessor['feature_extractor_type'] === 'string')
      hints.featureExtractorType = preprocessor['feature_extractor_type'];
    if (typeof preprocessor['sampling_rate'] === 'number') hints.samplingRate = preprocessor['sampling_rate'];
    if (typeof preprocessor['do_normalize'] === 'boolean') hints.doNormalize = preprocessor['do_normalize'];
    if (typeof config['model_type'] === 'string') hints.modelType = config['model_type'];
  }
  const signature = readOnnxSignature(model);
  const verdicts = matchDescriptors(
    shippedDescriptors().map(({ id, descriptor }) => ({ id, descriptor })),
    signature,
    hints,
  );
  return { model, signature, hints, verdicts };
}

const tensorLine = (t: TensorSignature): string =>
  `  ${t.name}  ${t.dtype}  ${t.shape ? `[${t.shape.join(', ')}]` : '(no shape recorded)'}\n`;

export function formatInspection(inspection: Inspection): string {
  const { signature, hints, verdicts } = inspection;
  let out = `${inspection.model}\n`;
  out += `producer: ${signature.producer || '(not given)'}, IR version ${signature.irVersion}\n`;
  out += `opsets: ${signature.opsets.map((o) => `${o.domain} ${o.version}`).join(', ') || '(none)'}\n`;
  out += `inputs:\n${signature.inputs.map(tensorLine).join('')}`;
  out += `outputs:\n${signature.outputs.map(tensorLine).join('')}`;
  if (hints.featureExtractorType !== undefined)
    out += `preprocessor_config.json: feature_extractor_type ${hints.featureExtractorType}\n`;
  if (hints.samplingRate !== undefined || hints.doNormalize !== undefined)
    out += `preprocessor_config.json: sampling_rate ${hints.samplingRate ?? '(not given)'}, do_normalize ${hints.doNormalize ?? '(not given)'}\n`;
  if (hints.modelType !== undefined) out += `config.json: model_type ${hints.modelType}\n`;
  const fitting = verdicts.filter((v) => v.reasons.length === 0);
  if (fitting.length > 0) {
    out += `descriptor: ${fitting[0]!.id} (models/encoders/${fitting[0]!.id}.encoder.json)\n`;
    if (fitting.length > 1)
      out += `  also fits: ${fitting
        .slice(1)
        .map((v) => v.id)
        .join(', ')} (same inputs and outputs; choose by the model you exported)\n`;
    return out;
  }
  out += 'descriptor: none of the shipped descriptors fits; write one (docs/encoders.md). Why each does not:\n';
  for (const v of verdicts) out += `  ${v.id}: ${v.reasons.join('; ')}\n`;
  return out;
}
