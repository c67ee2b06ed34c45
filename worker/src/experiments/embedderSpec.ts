import { createEmbedder, type Embedder, type EmbedderSpec } from '../embedders';
import { GenrepError } from '../errors';
import type { EmbedderConfig } from '../protocol/runConfig';
import type { Settings } from '../settings';

/** A config's embedder with the caller's folders and threads. The caller disposes of it. */
export function openEmbedder(config: EmbedderConfig, settings: Settings): Promise<Embedder> {
  return createEmbedder(toEmbedderSpec(config), {
    modelDir: settings.modelDir,
    cacheDir: settings.cacheDir,
    ...(settings.threads ? { threads: settings.threads } : {}),
  });
}

/**
 * A config's `embedder` (run configs, `genrep/buildBank`, `genrep/scoreFiles`) as createEmbedder takes it: a string
 * stays a model name or path for resolveModel; a user ONNX encoder must say its input kind and output name.
 */
export function toEmbedderSpec(embedder: EmbedderConfig): EmbedderSpec | string {
  if (typeof embedder === 'string') return embedder;
  switch (embedder.kind) {
    case 'fbank-stats':
      return { kind: 'fbank-stats' };
    case 'beats':
      return embedder.checkpoint;
    case 'onnx':
      if (!embedder.output || !embedder.input) {
        throw new GenrepError(
          '/embedder: a user ONNX encoder needs "input" (waveform | fbank) and "output" (the output name)',
          'BAD_INPUT',
          { field: '/embedder' },
        );
      }
      return { kind: 'onnx', path: embedder.path, input: embedder.input, output: embedder.output };
    case 'encoder':
      return { kind: 'encoder', descriptor: embedder.descriptor };
  }
}
