import { resolveModel } from '../models/resolve';
import { GenrepError } from '../errors';
import { BeatsEmbedder } from './beatsEmbedder';
import { ConvertedBeatsEmbedder } from './convertedBeatsEmbedder';
import { FbankStatsEmbedder } from './fbankStats';
import { OnnxEncoderEmbedder } from './onnxEncoderEmbedder';
import { createEncoderEmbedder } from './encoderEmbedder';
import type { Embedder, EmbedderOptions, EmbedderSpec } from './types';

export type { Embedder, EmbedderOptions, EmbedderSpec, EmbedOptions, FrontEndFactory } from './types';
export { checkPooling, EMBEDDER_POOLINGS, isPooling, POOLINGS, type EmbedderKind, type Pooling } from './pooling';
export { BeatsEmbedder } from './beatsEmbedder';
export { ConvertedBeatsEmbedder } from './convertedBeatsEmbedder';
export { FbankStatsEmbedder, fbankStatistics, FBANK_STATS_DIM } from './fbankStats';
export { OnnxEncoderEmbedder } from './onnxEncoderEmbedder';
export { EncoderEmbedder, createEncoderEmbedder } from './encoderEmbedder';

/**
 * Builds the embedder a spec describes (a string is a model name or path, resolved by resolveModel); BEATs
 * checkpoints are validated here and converted on first use. The folders come from the caller's Settings
 * (worker/src/settings.ts); a model name needs `modelDir` and a BEATs checkpoint `cacheDir`.
 */
export async function createEmbedder(
  specOrName: EmbedderSpec | string,
  options: EmbedderOptions = {},
): Promise<Embedder> {
  const spec = typeof specOrName === 'string' ? resolveModel(specOrName, options.modelDir) : specOrName;
  const runtime = {
    ...(options.threads ? { threads: options.threads } : {}),
    device: options.device ?? 'auto',
  } as const;
  // Model files keyed by their sha256 are hashed once per change, not per job, where there is a cache folder.
  const memo = options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir };
  switch (spec.kind) {
    case 'fbank-stats':
      return new FbankStatsEmbedder();
    case 'beats':
      return BeatsEmbedder.create(spec.checkpoint, {
        cacheDir: options.cacheDir ?? missingFolder('cacheDir', spec.checkpoint),
        ...runtime,
        ...(spec.quantize ? { quantize: spec.quantize } : {}),
      });
    case 'beats-onnx':
      return ConvertedBeatsEmbedder.create(spec.path, { ...runtime, ...memo });
    case 'onnx':
      return OnnxEncoderEmbedder.create(
        { path: spec.path, input: spec.input, output: spec.output },
        { ...runtime, ...memo },
      );
    case 'encoder':
      return createEncoderEmbedder(spec.descriptor, {
        ...runtime,
        ...memo,
        ...(options.frontEndFactory ? { frontEndFactory: options.frontEndFactory } : {}),
      });
  }
}

/** A caller that builds a BEATs embedder without its Settings' cache folder: a bug, not the user's input. */
function missingFolder(option: 'cacheDir', what: string): never {
  throw new GenrepError(`createEmbedder: ${what} needs options.${option} (from the caller's Settings)`, 'INTERNAL');
}
