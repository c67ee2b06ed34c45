import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { GenrepError } from '../errors';
import { errnoCode, fsError } from '../io/fsErrors';
import { parseDescriptor } from './descriptorFile';
import type { DescriptorVerdict, HfFolderHints } from './descriptorMatch';
import { judgeDescriptor, judgeOnnxFrontEnd, matchDescriptors } from './descriptorMatch';
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

/** `genrep model inspect x.encoder.json`: the descriptor's model (and ONNX front-end model) and whether it fits them. */
export interface DescriptorInspection {
  file: string;
  name: string;
  model: string;
  signature: OnnxSignature;
  frontEnd?: { model: string; signature: OnnxSignature };
  /** Empty when the descriptor fits its models as far as their recorded signatures tell. */
  reasons: string[];
}

export const isDescriptorPath = (target: string): boolean => /\.encoder\.json$/i.test(target);

/** A model file a descriptor names, which must exist (the user exports it: docs/encoders.md). */
function descriptorModel(file: string, baseDir: string, relative: string, pointer: string): string {
  const model = path.resolve(baseDir, relative);
  if (!existsSync(model))
    throw new GenrepError(
      `${file}: ${pointer}: ${model} does not exist (export the model first: docs/encoders.md)`,
      'NOT_FOUND',
      { file: model, field: pointer },
    );
  return model;
}

/** Reads and checks a descriptor as a run would, then judges it against its models' signatures (no weights read). */
export function inspectDescriptor(file: string): DescriptorInspection {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new GenrepError(`${file}: no such file or folder`, 'NOT_FOUND', { file });
    throw fsError(err, file, { action: 'read', expected: 'an encoder descriptor (.encoder.json)' });
  }
  const { descriptor, baseDir } = parseDescriptor(text, file);
  const model = descriptorModel(file, baseDir, descriptor.model, '/model');
  const signature = readOnnxSignature(model);
  const reasons = judgeDescriptor(path.basename(file), descriptor, signature).reasons;
  let frontEnd: DescriptorInspection['frontEnd'];
  if (descriptor.frontEnd.kind === 'onnx') {
    const feModel = descriptorModel(file, baseDir, descriptor.frontEnd.model, '/frontEnd/model');
    frontEnd = { model: feModel, signature: readOnnxSignature(feModel) };
    reasons.push(...judgeOnnxFrontEnd(descriptor, frontEnd.signature, signature));
  }
  return { file, name: descriptor.name, model, signature, ...(frontEnd ? { frontEnd } : {}), reasons };
}

const tensorLine = (t: TensorSignature): string =>
  `  ${t.name}  ${t.dtype}  ${t.shape ? `[${t.shape.join(', ')}]` : '(no shape recorded)'}\n`;

function formatSignature(signature: OnnxSignature): string {
  let out = `producer: ${signature.producer || '(not given)'}, IR version ${signature.irVersion}\n`;
  out += `opsets: ${signature.opsets.map((o) => `${o.domain} ${o.version}`).join(', ') || '(none)'}\n`;
  out += `inputs:\n${signature.inputs.map(tensorLine).join('')}`;
  out += `outputs:\n${signature.outputs.map(tensorLine).join('')}`;
  return out;
}

export function formatDescriptorInspection(inspection: DescriptorInspection): string {
  let out = `${inspection.file} (${inspection.name})\n`;
  out += `model: ${inspection.model}\n${formatSignature(inspection.signature)}`;
  if (inspection.frontEnd)
    out += `front-end model: ${inspection.frontEnd.model}\n${formatSignature(inspection.frontEnd.signature)}`;
  if (inspection.reasons.length === 0) return `${out}fits: names, dtypes, ranks and fixed sizes agree\n`;
  return `${out}does not fit:\n${inspection.reasons.map((r) => `  ${r}\n`).join('')}`;
}

export function formatInspection(inspection: Inspection): string {
  const { signature, hints, verdicts } = inspection;
  let out = `${inspection.model}\n`;
  out += formatSignature(signature);
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
