import { BeatsConfig, checkLayers, FBANK_BINS, FBANK_FRAMES } from '../beats/config';
import { BEATS_INPUT, beatsOutputDim, beatsOutputName } from '../beats/graph';
import { BeatsModelCache } from '../beats/modelCache';
import { GenrepError } from '../errors';
import { BEATS_SAMPLES, beatsFbank } from '../fbank';
import { Device, openSession, OpenSession, ort } from '../onnx/runtime';
import { allocateOutputs, checkBatchSize, forEachBatch } from './batching';
import { Embedder, EmbedOptions, Pooling } from './types';

const FBANK_SIZE = FBANK_FRAMES * FBANK_BINS;

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
  private current: { key: string; open: OpenSession } | undefined;

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
    return beatsOutputDim(this.config, pooling);
  }

  private async session(deepest: number, pooling: Pooling): Promise<OpenSession> {
    const key = `${deepest}:${pooling}`;
    if (this.current?.key === key) return this.current.open;
    const layers = Array.from({ length: deepest + 1 }, (_, i) => i);
    const file = await this.cache.modelPath({
      layers,
      output: pooling,
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
    this.current = { key, open };
    return open;
  }

  async embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]> {
    const wanted = checkLayers(options.layers, this.numLayers);
    const deepest = wanted[wanted.length - 1]!;
    const dim = this.dim(options.pooling);
    const outputs = allocateOutputs(options.layers, clips.length, dim);
    if (clips.length === 0) return outputs;
    const { session } = await this.session(deepest, options.pooling);
    // One clip per run is as fast per clip as larger batches on CPU (the matrices are already 496 rows tall) and
    // keeps memory flat; callers on CUDA can ask for more.
    const batchSize = checkBatchSize(options.batchSize, 1);
    await forEachBatch(clips.length, batchSize, options, async (start, end) => {
      const count = end - start;
      const input = new Float32Array(count * FBANK_SIZE);
      for (let i = 0; i < count; i++) input.set(beatsFbank(clips[start + i]!).data, i * FBANK_SIZE);
      const fetches = [...new Set(options.layers)].map((layer) => beatsOutputName(layer, options.pooling));
      const result = await session.run(
        { [BEATS_INPUT]: new ort.Tensor('float32', input, [count, FBANK_FRAMES, FBANK_BINS]) },
        fetches,
      );
      options.layers.forEach((layer, slot) => {
        const value = result[beatsOutputName(layer, options.pooling)];
        if (!value || value.data.length !== count * dim) {
          throw new GenrepError(
            `BEATs graph returned ${value?.data.length ?? 'nothing'} values for layer ${layer}, expected ${count * dim}`,
            'INTERNAL',
          );
        }
        outputs[slot]!.set(value.data as Float32Array, start * dim);
      });
      for (const value of Object.values(result)) value.dispose();
    });
    return outputs;
  }

  async dispose(): Promise<void> {
    await this.current?.open.session.release();
    this.current = undefined;
    this.cache.releaseWeights();
  }
}
