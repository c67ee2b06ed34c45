import { FBANK_BINS, FBANK_FRAMES } from '../beats/config';
import { BEATS_INPUT, beatsOutputName } from '../beats/graph';
import { sha256File } from '../beats/modelCache';
import { fileError, GenrepError } from '../errors';
import { BEATS_SAMPLES, beatsFbank } from '../fbank';
import { Device, openSession, OpenSession, ort } from '../onnx/runtime';
import { allocateOutputs, checkBatchSize, forEachBatch } from './batching';
import { Embedder, EmbedOptions, Pooling, POOLINGS } from './types';

const OUTPUT_PATTERN = /^layer(\d+)_(temporal|spectral|spatial)$/;

/** Layers and poolings a converted BEATs graph offers, read from its output names; undefined if it is not one. */
export function convertedBeatsOutputs(session: ort.InferenceSession): Map<Pooling, Map<number, number>> | undefined {
  if (session.inputNames.length !== 1 || session.inputNames[0] !== BEATS_INPUT) return undefined;
  const offered = new Map<Pooling, Map<number, number>>();
  for (const meta of session.outputMetadata) {
    const match = OUTPUT_PATTERN.exec(meta.name);
    if (!match || !meta.isTensor) return undefined;
    const dim = meta.shape[1];
    if (typeof dim !== 'number') return undefined;
    const pooling = match[2] as Pooling;
    if (!offered.has(pooling)) offered.set(pooling, new Map());
    offered.get(pooling)!.set(Number(match[1]), dim);
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
    options: { threads?: number; device?: Device } = {},
  ): Promise<ConvertedBeatsEmbedder> {
    const sha256 = await sha256File(file);
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
      const have = POOLINGS.filter((p) => this.offered.has(p));
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
    return [...this.layersFor(pooling).values()][0]!;
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
    const outputs = allocateOutputs(options.layers, clips.length, dim);
    const fetches = [...new Set(options.layers)].map((layer) => beatsOutputName(layer, options.pooling));
    const size = FBANK_FRAMES * FBANK_BINS;
    await forEachBatch(clips.length, checkBatchSize(options.batchSize, 1), options, async (start, end) => {
      const count = end - start;
      const input = new Float32Array(count * size);
      for (let i = 0; i < count; i++) input.set(beatsFbank(clips[start + i]!).data, i * size);
      const result = await this.open.session.run(
        { [BEATS_INPUT]: new ort.Tensor('float32', input, [count, FBANK_FRAMES, FBANK_BINS]) },
        fetches,
      );
      options.layers.forEach((layer, slot) =>
        outputs[slot]!.set(result[beatsOutputName(layer, options.pooling)]!.data as Float32Array, start * dim),
      );
      for (const value of Object.values(result)) value.dispose();
    });
    return outputs;
  }

  async dispose(): Promise<void> {
    await this.open.session.release();
  }
}
