import { createHash } from 'node:crypto';
import { FBANK_BINS, FBANK_FRAMES } from '../beats/config';
import { modelSha256 } from '../beats/modelCache';
import { fileError, GenrepError } from '../errors';
import { BEATS_SAMPLES, beatsFbank } from '../fbank';
import type { Device, OpenSession } from '../onnx/runtime';
import { openSession, ort } from '../onnx/runtime';
import type { Pooling } from '../protocol/vocabulary';
import { perRequestedLayer, runOnnxBatches } from './onnxBatchRunner';
import { checkPooling } from './pooling';
import type { Embedder, EmbedOptions } from './types';

export interface OnnxEncoderSpec {
  path: string;
  /** waveform: [B, samples] 16 kHz in [-1, 1); fbank: the BEATs-normalised fbank [B, 998, 128]. */
  input: 'waveform' | 'fbank';
  output: string;
}

/**
 * A user-supplied ONNX audio encoder: one float32 input, one named output holding a vector (or any fixed-size
 * array, flattened) per clip. Clips are cut or zero-padded to the model's fixed input length, or to 10 s when the
 * length is free, as GenRep does for BEATs. It has a single "layer" (1), and its vectors come out pooled by the
 * model itself: 'temporal', the default, is the one pooling it accepts (see EMBEDDER_POOLINGS), since asking for
 * another could not change what it returns.
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
    options: { threads?: number; device?: Device; cacheDir?: string } = {},
  ): Promise<OnnxEncoderEmbedder> {
    const file = spec.path;
    const sha256 = await modelSha256(file, options.cacheDir);
    const open = await openSession(file, options);
    try {
      const { session } = open;
      const [inputName, ...otherInputs] = session.inputNames;
      const [meta] = session.inputMetadata;
      if (inputName === undefined || meta === undefined || otherInputs.length > 0) {
        throw fileError(
          file,
          `the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); an audio encoder with exactly one input is expected`,
          'BAD_INPUT',
          {
            expected: 'one input',
          },
        );
      }
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
      const fixed = (i: number) => {
        const size = shape[i];
        return typeof size === 'number' && size > 0 ? size : undefined;
      };
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
      const out = probe[spec.output];
      if (out === undefined) {
        throw fileError(file, `ONNX Runtime returned no output '${spec.output}'`, 'BAD_INPUT', { field: 'output' });
      }
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
    checkPooling('onnx', pooling, {
      subject: 'this ONNX encoder',
      why: `whose output '${this.spec.output}' is one vector per clip, pooled by the model itself`,
      file: this.spec.path,
    });
    return this.outputDim;
  }

  async embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]> {
    const dim = this.dim(options.pooling);
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
    const waveform = this.spec.input === 'waveform';
    const samples = this.samples;
    const [out] = await runOnnxBatches(
      clips,
      {
        session: this.open.session,
        model: this.spec.path,
        inputName: this.inputName,
        clipShape: waveform ? [samples] : [FBANK_FRAMES, FBANK_BINS],
        // A waveform is cut to the model's length, or zero-padded up to it.
        clipInput: waveform ? (clip) => clip.subarray(0, samples) : (clip) => beatsFbank(clip).data,
        outputs: [{ name: this.spec.output, dim }],
        fixedBatch: this.fixedBatch,
        defaultBatchSize: 4,
        faultCode: 'BAD_INPUT',
      },
      options,
    );
    if (out === undefined) throw new GenrepError('the batch runner returned no matrix', 'INTERNAL');
    return perRequestedLayer(options.layers, new Map([[1, out]]));
  }

  async dispose(): Promise<void> {
    await this.open.session.release();
  }
}
