import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileError, GenrepError } from '../errors';
import type { EmbedderSpec } from './spec';
import { knownModels } from './manifest';

/**
 * What `--model` names: 'fbank-stats' (the weight-free default), a known checkpoint name from
 * models/manifest.json (looked up in the model directory), a .pt checkpoint path, or an .onnx graph converted by
 * `genrep model convert`. A user encoder needs its input kind and output name too, so callers build that spec
 * themselves. `modelDir` (the caller's Settings.modelDir) is needed for a name only.
 */
export function resolveModel(nameOrPath: string, modelDir: string | undefined): EmbedderSpec {
  if (nameOrPath === 'fbank-stats') return { kind: 'fbank-stats' };
  const looksLikePath =
    nameOrPath.includes('/') ||
    nameOrPath.includes(path.sep) ||
    /\.(pt|pth|ckpt|onnx|encoder\.json)$/i.test(nameOrPath);
  if (!looksLikePath) {
    const models = knownModels();
    const entry = models.get(nameOrPath);
    if (!entry) {
      throw new GenrepError(
        `unknown model '${nameOrPath}'; use fbank-stats, one of ${[...models.keys()].join(', ')}, or a .pt / .onnx path`,
        'BAD_INPUT',
        {
          field: 'model',
          expected: ['fbank-stats', ...models.keys()].join(' | '),
        },
      );
    }
    if (modelDir === undefined) {
      throw new GenrepError(`resolveModel: '${nameOrPath}' needs the model folder (Settings.modelDir)`, 'INTERNAL');
    }
    const file = path.join(modelDir, entry.file);
    if (!existsSync(file)) {
      throw fileError(
        file,
        `model '${nameOrPath}' is not downloaded; run 'genrep model download ${nameOrPath}' or pass the checkpoint's path`,
        'NOT_FOUND',
      );
    }
    return { kind: 'beats', checkpoint: file };
  }
  const file = path.resolve(nameOrPath);
  if (!existsSync(file)) throw fileError(nameOrPath, 'no such file', 'NOT_FOUND');
  // An encoder descriptor, or a Hugging Face export folder read as one.
  if (/\.encoder\.json$/i.test(file)) return { kind: 'encoder', descriptor: file };
  if (statSync(file).isDirectory() && existsSync(path.join(file, 'preprocessor_config.json')))
    return { kind: 'encoder', descriptor: file };
  if (statSync(file).isDirectory())
    throw fileError(nameOrPath, 'is a directory, expected a .pt checkpoint or an .onnx model');
  return /\.onnx$/i.test(file) ? { kind: 'beats-onnx', path: file } : { kind: 'beats', checkpoint: file };
}
