import { BEATS_INPUT } from '../beats/graph';
import { modelSha256 } from '../beats/modelCache';
import { fileError, GenrepError } from '../errors';
import { BEATS_SAMPLES } from '../fbank';
import type { Device, OpenSession, ort } from '../onnx/runtime';
import { openSession } from '../onnx/runtime';
import { runPooledBeatsGraph } from './beatsEmbedder';
import { EMBEDDER_POOLINGS, isPooling, type Pooling } from './pooling';
import type { Embedder, EmbedOptions } from './types';

const OUTPUT_PATTERN = /^layer(\d+)_([a-z]+)$/;

/** Layers and poolings a converted BEATs graph offers, read from its output names; undefined if it is not one. */
export function convertedBeatsOutputs(session: ort.InferenceSession): Map<Pooling, Map<number, number>> | undefined {
  if (session.inputNames.length !== 1 || session.inputNames[0] !== BEATS_INPUT) return undefined;
  const offered = new Map<Pooling, Map<number, number>>();
  for (const meta of session.outputMetadata) {
    const [, layer, pooling] = OUTPUT_PATTERN.exec(meta.name) ?? [];
    if (layer === undefined || pooling === undefined || !meta.isTensor) return undefined;
    if (!isPooling(pooling) || !EMBEDDER_POOLINGS['beats-onnx'].includes(pooling)) return undefined;
    const dim = meta.shape[1];
    if (typeof dim !== 'number') return undefined;
    const layers = offered.get(pooling) ?? new Map<number, number>();
    offered.set(pooling, layers.set(Number(layer), dim));
  }
  return offered.size > 0 ? offered : undefined;
}

/**
 * A graph written earlier by `genrep model convert` with a pooling: it offers exactly the layers and pooling it
 * was converted with, and says so when asked for others.
 */
export class ConvertedBeatsEmbedder implements Embedder {
  readonly clipSamples = BEATS_SAMPLES;
  private constructor(
    private readonly file: string,
    private readonly open: OpenSession,
    private readonly offered: Map<Pooling, Map<number, number>>,
    readonly id: string,
  ) {}

  static async create(
    file: string,
    options: { threads?: number; device?: Device; cacheDir?: string } = {},
  ): Promise<ConvertedBeatsEmbedder> {
    const sha256 = await modelSha256(file, options.cacheDir);
    const open = await openSession(file, options);
    const offered = convertedBeatsOutputs(open.session);
    if (!offered) {
      await open.session.release();
      throw fileError(
        file,
        `not a pooled BEATs graph from 'genrep model convert' (input '${BEATS_INPUT}', outputs layer<k>_<pooling>)`,
        'BAD_INPUT',
        {
          expected: 'a graph converted with --pooling, or a user encoder given with its input kind and output name',
        },
      );
    }
    return new ConvertedBeatsEmbedder(file, open, offered, `beats-onnx:${sha256}`);
  }

  get numLayers(): number {
    return Math.max(...[...this.offered.values()].flatMap((layers) => [...layers.keys()]));
  }

  get provider(): string {
    return this.open.provider;
  }

  private layersFor(pooling: Pooling): Map<number, number> {
    const layers = this.offered.get(pooling);
    if (!layers) {
      const have = EMBEDDER_POOLINGS['beats-onnx'].filter((p) => this.offered.has(p));
      throw fileError(
        this.file,
        `this converted model has no '${pooling}' outputs (it has ${have.join(', ')})`,
        'BAD_INPUT',
        { field: 'pooling', expected: have.join(' | ') },
      );
    }
    return layers;
  }

  dim(pooling: Pooling): number {
    const [dim] = this.layersFor(pooling).values();
    // convertedBeatsOutputs records a pooling only together with a layer.
    if (dim === undefined) throw new GenrepError(`no '${pooling}' output width recorded`, 'INTERNAL');
    return dim;
  }

  async embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]> {
    const available = this.layersFor(options.pooling);
    if (options.layers.length === 0)
      throw new GenrepError('layers: at least one layer is required', 'BAD_INPUT', { field: 'layers' });
    for (const layer of options.layers) {
      if (!available.has(layer)) {
        throw fileError(
          this.file,
          `layer ${layer} is not in this converted model (it has layers ${[...available.keys()].sort((a, b) => a - b).join(', ')})`,
          'BAD_INPUT',
          {
            field: 'layers',
          },
        );
      }
    }
    const dim = this.dim(options.pooling);
    // The graph is a file the user gave: one that returns other sizes was not written by `genrep model convert`.
    return runPooledBeatsGraph(clips, options, {
      session: this.open.session,
      model: this.file,
      dim,
      faultCode: 'BAD_INPUT',
    });
  }

  async dispose(): Promise<void> {
    await this.open.session.release();
  }
}
