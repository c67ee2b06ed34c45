import { createEmbedder, type Embedder, type EmbedderSpec } from '../embedders';
import { GenrepError } from '../errors';
import type { EmbedderConfig } from '../protocol/runConfig';
import type { Settings } from '../settings';

/** A run config's `embedder`, one or a list, as a list (the schema gives a list at least one entry). */
export function embedderList(embedder: EmbedderConfig | EmbedderConfig[]): [EmbedderConfig, ...EmbedderConfig[]] {
  const list = Array.isArray(embedder) ? embedder : [embedder];
  const [first, ...rest] = list;
  if (first === undefined)
    throw new GenrepError('/embedder: the list of embedders is empty', 'BAD_INPUT', { field: '/embedder' });
  return [first, ...rest];
}

/**
 * A config's embedder with the caller's folders and threads. The caller disposes of it. `at` is its JSON pointer in
 * the config (`/embedder/N` in a list).
 */
export function openEmbedder(config: EmbedderConfig, settings: Settings, at = '/embedder'): Promise<Embedder> {
  return createEmbedder(toEmbedderSpec(config, at), {
    modelDir: settings.modelDir,
    cacheDir: settings.cacheDir,
    ...(settings.threads ? { threads: settings.threads } : {}),
  });
}

/**
 * A config's `embedder` (run configs, `genrep/buildBank`, `genrep/scoreFiles`) as createEmbedder takes it: a string
 * stays a model name or path for resolveModel; a user ONNX encoder must say its input kind and output name.
 */
export function toEmbedderSpec(embedder: EmbedderConfig, at = '/embedder'): EmbedderSpec | string {
  if (typeof embedder === 'string') return embedder;
  switch (embedder.kind) {
    case 'fbank-stats':
      return { kind: 'fbank-stats' };
    case 'beats':
      return embedder.checkpoint;
    case 'onnx':
      if (!embedder.output || !embedder.input) {
        throw new GenrepError(
          `${at}: a user ONNX encoder needs "input" (waveform | fbank) and "output" (the output name)`,
          'BAD_INPUT',
          { field: at },
        );
      }
      return { kind: 'onnx', path: embedder.path, input: embedder.input, output: embedder.output };
    case 'encoder':
      return { kind: 'encoder', descriptor: embedder.descriptor };
  }
}
