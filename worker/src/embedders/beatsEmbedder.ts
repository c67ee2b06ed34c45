import type { BeatsConfig } from '../beats/config';
import { beatsGeometry, checkLayers, FBANK_BINS, FBANK_FRAMES } from '../beats/config';
import { BEATS_INPUT, beatsOutputDim, beatsOutputName, type BeatsOutput } from '../beats/graph';
import { BeatsModelCache } from '../beats/modelCache';
import { GenrepError } from '../errors';
import { BEATS_SAMPLES, beatsFbank } from '../fbank';
import type { Device, OpenSession, ort } from '../onnx/runtime';
import { openSession } from '../onnx/runtime';
import type { Pooling } from '../protocol/vocabulary';
import { checkPooling } from './pooling';
import { perRequestedLayer, runOnnxBatches } from './onnxBatchRunner';
import type { Embedder, EmbedOptions } from './types';

export interface BeatsEmbedderOptions {
  cacheDir: string;
  threads?: number;
  device?: Device;
  quantize?: 'int8';
}

/**
 * BEATs features through ONNX Runtime. Each (deepest layer, pooling) pair is one cached graph that outputs every
 * layer from 0 up to the deepest requested one, pooled, so asking for layers 1 and 4 after layer 4 alone reuses the
 * same graph, and no block past the deepest requested layer runs. One session is kept open at a time.
 */
export class BeatsEmbedder implements Embedder {
  readonly clipSamples = BEATS_SAMPLES;
  private current: { key: string; open: OpenSession; file: string } | undefined;

  private constructor(
    private readonly cache: BeatsModelCache,
    private readonly config: BeatsConfig,
    private readonly options: BeatsEmbedderOptions,
  ) {}

  static async create(checkpointFile: string, options: BeatsEmbedderOptions): Promise<BeatsEmbedder> {
    const cache = await BeatsModelCache.open(checkpointFile, options.cacheDir);
    return new BeatsEmbedder(cache, await cache.config(), options);
  }

  get id(): string {
    return `beats:${this.cache.sha256}${this.options.quantize ? `:${this.options.quantize}` : ''}`;
  }

  get numLayers(): number {
    return this.config.encoder_layers;
  }

  get provider(): string {
    return this.current?.open.provider ?? 'cpu';
  }

  dim(pooling: Pooling): number {
    checkPooling('beats', pooling, { subject: 'BEATs', why: 'which pools its token grid only these ways' });
    return beatsOutputDim(this.config, pooling);
  }

  private async session(
    deepest: number,
    output: BeatsOutput,
    layers = Array.from({ length: deepest + 1 }, (_, i) => i),
  ): Promise<{ open: OpenSession; file: string }> {
    const key = `${layers.join('_')}:${output}`;
    if (this.current?.key === key) return this.current;
    const file = await this.cache.modelPath({
      layers,
      output,
      ...(this.options.quantize ? { quantize: this.options.quantize } : {}),
    });
    // The session loads the graph from disk; the checkpoint's tensors would only raise peak memory while it does.
    this.cache.releaseWeights();
    await this.current?.open.session.release();
    this.current = undefined;
    const open = await openSession(file, {
      ...(this.options.threads ? { threads: this.options.threads } : {}),
      device: this.options.device ?? 'auto',
    });
    this.current = { key, open, file };
    return this.current;
  }

  async embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]> {
    const wanted = checkLayers(options.layers, this.numLayers);
    const deepest = wanted.at(-1);
    if (deepest === undefined) throw new GenrepError('checkLayers returned no layer', 'INTERNAL');
    const dim = this.dim(options.pooling);
    if (clips.length === 0) return options.layers.map(() => new Float32Array(0));
    const { open, file } = await this.session(deepest, options.pooling);
    return runPooledBeatsGraph(clips, options, { session: open.session, model: file, dim, faultCode: 'INTERNAL' });
  }

  /**
   * One clip's unpooled tokens at one layer, for explaining its score (worker/src/explain): [T·F, C] time-major —
   * token (t, f) at row t·F + f, F = 8 frequency patches — whose mean over t, flattened f·C + c, is the temporal
   * pooling. The graph ('hidden' output of that layer alone) is cached beside the pooled ones, keyed by the
   * checkpoint's sha256 and the layer, and is built and run only for clips being explained.
   */
  async tokens(
    clip: Float32Array,
    layer: number,
    signal?: AbortSignal,
  ): Promise<{ data: Float32Array; times: number; bands: number; channels: number }> {
    checkLayers([layer], this.numLayers);
    const geo = beatsGeometry(this.config);
    const channels = this.config.encoder_embed_dim;
    const { open, file } = await this.session(layer, 'hidden', [layer]);
    const [data] = await runOnnxBatches(
      [clip],
      {
        session: open.session,
        model: file,
        inputName: BEATS_INPUT,
        clipShape: [FBANK_FRAMES, FBANK_BINS],
        clipInput: (c) => beatsFbank(c).data,
        outputs: [{ name: beatsOutputName(layer, 'hidden'), dim: beatsOutputDim(this.config, 'hidden') }],
        defaultBatchSize: 1,
        faultCode: 'INTERNAL',
      },
      signal ? { signal } : {},
    );
    if (!data) throw new GenrepError('the BEATs token graph returned no output', 'INTERNAL');
    return { data, times: geo.patchesT, bands: geo.patchesF, channels };
  }

  async dispose(): Promise<void> {
    await this.current?.open.session.release();
    this.current = undefined;
    this.cache.releaseWeights();
  }
}

/**
 * Runs a pooled BEATs graph (fbank in, `layer<k>_<pooling>` outputs of `dim` floats a clip) over the clips: one
 * matrix per requested layer, each distinct layer fetched once. `faultCode` says whose fault a wrong-size output is
 * (INTERNAL for a graph written here, BAD_INPUT for a converted graph the user gave).
 */
export async function runPooledBeatsGraph(
  clips: readonly Float32Array[],
  options: EmbedOptions,
  graph: { session: ort.InferenceSession; model: string; dim: number; faultCode: 'INTERNAL' | 'BAD_INPUT' },
): Promise<Float32Array[]> {
  const distinct = [...new Set(options.layers)];
  const matrices = await runOnnxBatches(
    clips,
    {
      session: graph.session,
      model: graph.model,
      inputName: BEATS_INPUT,
      clipShape: [FBANK_FRAMES, FBANK_BINS],
      clipInput: (clip) => beatsFbank(clip).data,
      outputs: distinct.map((layer) => ({ name: beatsOutputName(layer, options.pooling), dim: graph.dim })),
      // One clip per run is as fast per clip as larger batches on CPU (the matrices are already 496 rows tall)
      // and keeps memory flat; callers on CUDA can ask for more.
      defaultBatchSize: 1,
      faultCode: graph.faultCode,
    },
    options,
  );
  // k < distinct.length = matrices.length: one matrix per output asked for.
  return perRequestedLayer(options.layers, new Map(distinct.map((layer, k) => [layer, matrices[k]!])));
}
