import { createHash } from 'node:crypto';
import { FBANK_BINS, FBANK_FRAMES } from '../beats/config';
import { sha256File } from '../beats/modelCache';
import { fileError, GenrepError } from '../errors';
import { BEATS_SAMPLES, beatsFbank } from '../fbank';
import { Device, openSession, OpenSession, ort } from '../onnx/runtime';
import { checkBatchSize, forEachBatch } from './batching';
import { Embedder, EmbedOptions, Pooling } from './types';

export interface OnnxEncoderSpec {
  path: string;
  /** waveform: [B, samples] 16 kHz in [-1, 1); fbank: the BEATs-normalised fbank [B, 998, 128]. */
  input: 'waveform' | 'fbank';
  output: string;
}

/**
 * A user-supplied ONNX audio encoder: one float32 input, one named output holding a vector (or any fixed-size
 * array, flattened) per clip. Clips are cut or zero-padded to the model's fixed input length, or to 10 s when the
 * length is free, as GenRep does for BEATs. It has a single "layer" (1); pooling is the encoder's own business and
 * the option is accepted unchanged.
 */
export class OnnxEncoderEmbedder implements Embedder {
  private constructor(
    private readonly spec: OnnxEncoderSpec,
    private readonly open: OpenSession,
    private readonly inputName: string,
    private readonly samples: number,
    private readonly fixedBatch: number | undefined,
    private readonly outputDim: number,
    readonly id: string,
  ) {}

  readonly numLayers = 1;

  /** A waveform encoder reads its input length; an fbank encoder BEATs' 10 s. */
  get clipSamples(): number {
    return this.spec.input === 'waveform' ? this.samples : BEATS_SAMPLES;
  }

  get provider(): string {
    return this.open.provider;
  }

  static async create(
    spec: OnnxEncoderSpec,
    options: { threads?: number; device?: Device } = {},
  ): Promise<OnnxEncoderEmbedder> {
    const file = spec.path;
    const sha256 = await sha256File(file);
    const open = await openSession(file, options);
    try {
      const { session } = open;
      if (session.inputNames.length !== 1) {
        throw fileError(
          file,
          `the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); an audio encoder with exactly one input is expected`,
          'BAD_INPUT',
          {
            expected: 'one input',
          },
        );
      }
      const inputName = session.inputNames[0]!;
      if (!session.outputNames.includes(spec.output)) {
        throw fileError(
          file,
          `the model has no output '${spec.output}'; its outputs are ${session.outputNames.join(', ')}`,
          'BAD_INPUT',
          {
            field: 'output',
            expected: session.outputNames.join(' | '),
          },
        );
      }
      const meta = session.inputMetadata[0]!;
      const expectedShape = spec.input === 'waveform' ? '[batch, samples]' : `[batch, ${FBANK_FRAMES}, ${FBANK_BINS}]`;
      const misfit = (problem: string) =>
        fileError(
          file,
          `input '${inputName}' ${problem}; a ${spec.input} encoder takes float32 ${expectedShape}`,
          'BAD_INPUT',
          {
            field: 'input',
            expected: `float32 ${expectedShape}`,
          },
        );
      if (!meta.isTensor) throw misfit('is not a tensor');
      if (meta.type !== 'float32') throw misfit(`is ${meta.type}`);
      const shape = meta.shape;
      const rank = spec.input === 'waveform' ? 2 : 3;
      if (shape.length !== rank) throw misfit(`has rank ${shape.length} ([${shape.join(', ')}])`);
      const fixed = (i: number) =>
        typeof shape[i] === 'number' && (shape[i] as number) > 0 ? (shape[i] as number) : undefined;
      let samples = BEATS_SAMPLES;
      if (spec.input === 'waveform') {
        samples = fixed(1) ?? BEATS_SAMPLES;
      } else {
        if (fixed(1) !== undefined && fixed(1) !== FBANK_FRAMES)
          throw misfit(`has ${fixed(1)} frames ([${shape.join(', ')}])`);
        if (fixed(2) !== undefined && fixed(2) !== FBANK_BINS)
          throw misfit(`has ${fixed(2)} bins ([${shape.join(', ')}])`);
      }
      const fixedBatch = fixed(0);

      // One probe run on silence settles what metadata cannot: free output sizes, and whether the model accepts the
      // input at all. Failing here gives the error before any clip is read.
      const batch = fixedBatch ?? 1;
      const probeShape = spec.input === 'waveform' ? [batch, samples] : [batch, FBANK_FRAMES, FBANK_BINS];
      let probe: ort.InferenceSession.ReturnType;
      try {
        probe = await session.run(
          {
            [inputName]: new ort.Tensor('float32', new Float32Array(probeShape.reduce((a, b) => a * b, 1)), probeShape),
          },
          [spec.output],
        );
      } catch (err) {
        throw misfit(`rejects a [${probeShape.join(', ')}] input: ${(err as Error).message.split('\n')[0]}`);
      }
      const out = probe[spec.output]!;
      if (out.dims.length < 2 || out.dims[0] !== batch) {
        throw fileError(
          file,
          `output '${spec.output}' has shape [${out.dims.join(', ')}] for a batch of ${batch}; expected [batch, ...]`,
          'BAD_INPUT',
          {
            field: 'output',
            expected: '[batch, dim]',
          },
        );
      }
      if (out.type !== 'float32') {
        throw fileError(file, `output '${spec.output}' is ${out.type}; float32 is expected`, 'BAD_INPUT', {
          field: 'output',
          expected: 'float32',
        });
      }
      const outputDim = out.dims.slice(1).reduce((a, b) => a * b, 1);
      const id = `onnx:${createHash('sha256').update(`${sha256}\n${spec.input}\n${spec.output}`).digest('hex').slice(0, 32)}`;
      return new OnnxEncoderEmbedder(spec, open, inputName, samples, fixedBatch, outputDim, id);
    } catch (err) {
      await open.session.release();
      throw err;
    }
  }

  dim(pooling: Pooling): number {
    void pooling;
    return this.outputDim;
  }

  async embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]> {
    for (const layer of options.layers) {
      if (layer !== 1) {
        throw new GenrepError(`layers: a user ONNX encoder has a single layer (1), got ${layer}`, 'BAD_INPUT', {
          field: 'layers',
          expected: '1',
        });
      }
    }
    if (options.layers.length === 0)
      throw new GenrepError('layers: at least one layer is required', 'BAD_INPUT', { field: 'layers' });
    const dim = this.outputDim;
    const out = new Float32Array(clips.length * dim);
    const batchSize = this.fixedBatch ?? checkBatchSize(options.batchSize, 4);
    const perClip = this.spec.input === 'waveform' ? this.samples : FBANK_FRAMES * FBANK_BINS;
    await forEachBatch(clips.length, batchSize, options, async (start, end) => {
      const count = end - start;
      // A fixed batch dimension is filled up with silence; those rows are dropped.
      const rowsIn = this.fixedBatch ?? count;
      const input = new Float32Array(rowsIn * perClip);
      for (let i = 0; i < count; i++) {
        const clip = clips[start + i]!;
        if (this.spec.input === 'waveform') input.set(clip.subarray(0, this.samples), i * perClip);
        else input.set(beatsFbank(clip).data, i * perClip);
      }
      const shape = this.spec.input === 'waveform' ? [rowsIn, this.samples] : [rowsIn, FBANK_FRAMES, FBANK_BINS];
      const result = await this.open.session.run({ [this.inputName]: new ort.Tensor('float32', input, shape) }, [
        this.spec.output,
      ]);
      const value = result[this.spec.output]!;
      if (value.dims[0] !== rowsIn || value.data.length !== rowsIn * dim) {
        throw fileError(
          this.spec.path,
          `output '${this.spec.output}' changed shape to [${value.dims.join(', ')}]; expected [${rowsIn}, ${dim}]`,
          'BAD_INPUT',
        );
      }
      out.set((value.data as Float32Array).subarray(0, count * dim), start * dim);
      value.dispose();
    });
    return options.layers.map(() => out.slice());
  }

  async dispose(): Promise<void> {
    await this.open.session.release();
  }
}
