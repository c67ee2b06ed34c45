/**
 * The embedder for any encoder a descriptor describes (protocol/encoderDescriptor.ts): clip → front-end → length →
 * windows → the encoder's input layout → its feature outputs → [T, F, D] tokens per layer, windows stacked along
 * time → pooled. Everything the model's metadata can refute is checked at creation, before any clip.
 */

import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { modelSha256 } from '../beats/modelCache';
import { fileError, GenrepError } from '../errors';
import type { Device, OpenSession } from '../onnx/runtime';
import { openSession, ort } from '../onnx/runtime';
import type { ConstantInput, EncoderDescriptor } from '../protocol/encoderDescriptor';
import type { Pooling } from '../protocol/vocabulary';
import type { Embedder, EmbedOptions, FrontEndFactory } from './types';
import { POOLINGS } from './pooling';
import type { FrontEndOutput, FrontEndRunner } from '../encoders/frontEnd';
import { parseLayout, transpose, type Axis } from '../encoders/layout';
import {
  poolingMisfit,
  pooledDim,
  poolTokens,
  stackTime,
  type Tokens,
  type TokenShape,
} from '../encoders/outputPooling';
import { applyLength, cutWindows } from '../encoders/windows';
import { readDescriptorFile } from '../encoders/descriptorFile';
import { createFrontEnd } from '../encoders/frontEnds';

export interface EncoderEmbedderOptions {
  /** The descriptor's folder: `model` paths are relative to it. */
  baseDir: string;
  /** The descriptor file, named in errors (default: the model file). */
  file?: string;
  threads?: number;
  device?: Device;
  /** Where the model files' sha256s are remembered between jobs (beats/modelCache.ts modelSha256). */
  cacheDir?: string;
  /** Builds the front-end runner; defaults to worker/src/encoders/frontEnds. */
  frontEndFactory?: FrontEndFactory;
}

/** One feature output as the embedder reads it. */
interface FeatureOutput {
  name: string;
  axes: Axis[];
  /** Layers this output holds (its L, else 1) and the first one's number. */
  layers: number;
  firstLayer: number;
  shape: TokenShape;
}

const CANONICAL_OUT: readonly Axis[] = ['L', 'B', 'T', 'F', 'D'];
const DEFAULT_BATCH = 4;
/** 16 kHz samples read past a waveform length, more than any resampler's filter reaches. */
const RESAMPLER_MARGIN = 256;

/** JSON with object keys sorted, so that the id follows the descriptor's content, not its formatting. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The expanded output list: `names` entries become one output per layer. */
function expandOutputs(descriptor: EncoderDescriptor): { name: string; layout: string }[] {
  return descriptor.outputs.flatMap((o) =>
    'name' in o
      ? [{ name: o.name, layout: o.layout }]
      : Array.from({ length: o.count }, (_, i) => ({
          name: o.names.replace('{n}', String(o.from + i)),
          layout: o.layout,
        })),
  );
}

function constantTensor(spec: ConstantInput, batch: number): ort.Tensor {
  const dims = spec.shape.map((d) => (d === 'B' ? batch : d));
  const n = dims.reduce((a, b) => a * b, 1);
  switch (spec.dtype) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(n).fill(spec.value), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(n).fill(spec.value), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(Math.trunc(spec.value))), dims);
    case 'bool':
      return new ort.Tensor('bool', new Uint8Array(n).fill(spec.value ? 1 : 0), dims);
  }
}

export class EncoderEmbedder implements Embedder {
  private constructor(
    private readonly descriptor: EncoderDescriptor,
    private readonly file: string,
    private readonly open: OpenSession,
    private readonly frontEnd: FrontEndRunner,
    private readonly inputName: string,
    private readonly inputAxes: Axis[],
    private readonly fixedBatch: number | undefined,
    private readonly outputs: FeatureOutput[],
    readonly numLayers: number,
    readonly id: string,
  ) {}

  get provider(): string {
    return this.open.provider;
  }

  /**
   * A crop or exact length on the waveform uses only that many samples: at 16 kHz, plus a margin for the
   * resampler's look-ahead so that the samples kept are those of the whole clip resampled.
   */
  get clipSamples(): number | undefined {
    const length = this.descriptor.length;
    if (length?.on !== 'waveform' || length.mode === 'pad') return undefined;
    return Math.ceil((length.frames * 16000) / this.frontEnd.sampleRate) + RESAMPLER_MARGIN;
  }

  static async create(descriptor: EncoderDescriptor, options: EncoderEmbedderOptions): Promise<EncoderEmbedder> {
    const modelFile = path.resolve(options.baseDir, descriptor.model);
    const file = options.file ?? modelFile;
    const refuse = (problem: string, field: string, expected?: string) =>
      fileError(file, problem, 'BAD_INPUT', { field, ...(expected === undefined ? {} : { expected }) });

    const inputAxes = parseLayout(descriptor.input.layout, 'input.layout');
    const hashes = [await modelSha256(modelFile, options.cacheDir)];
    if (descriptor.frontEnd.kind === 'onnx')
      hashes.push(await modelSha256(path.resolve(options.baseDir, descriptor.frontEnd.model), options.cacheDir));
    // The model paths say where the files are, their hashes what they are: the id keeps the latter.
    const { $schema: _schema, model: _model, ...content } = descriptor;
    const frontEnd =
      descriptor.frontEnd.kind === 'onnx' ? { ...descriptor.frontEnd, model: hashes[1] } : descriptor.frontEnd;
    const id = `encoder:${createHash('sha256')
      .update(`${canonicalJson({ ...content, frontEnd })}\n${hashes.join('\n')}`)
      .digest('hex')
      .slice(0, 32)}`;

    const runner = await (options.frontEndFactory ?? createFrontEnd)(descriptor.frontEnd, options.baseDir, {
      ...(options.threads ? { threads: options.threads } : {}),
    });
    let open: OpenSession | undefined;
    try {
      open = await openSession(modelFile, {
        ...(options.threads ? { threads: options.threads } : {}),
        device: options.device ?? 'auto',
      });
      const { session } = open;
      const constants = descriptor.constants ?? {};

      // The input the front-end feeds.
      const free = session.inputNames.filter((n) => !(n in constants));
      const inputName = descriptor.input.name ?? (free.length === 1 ? free[0] : undefined);
      if (inputName === undefined || !session.inputNames.includes(inputName)) {
        throw refuse(
          descriptor.input.name === undefined
            ? `the model's inputs without a constant are ${free.join(', ') || 'none'}; name the one the front-end feeds in input.name`
            : `the model has no input '${inputName}'; its inputs are ${session.inputNames.join(', ')}`,
          'input.name',
          session.inputNames.join(' | '),
        );
      }
      for (const name of session.inputNames) {
        if (name !== inputName && !(name in constants)) {
          throw refuse(
            `the model's input '${name}' is neither input.name nor in constants; give it a constant`,
            'constants',
            name,
          );
        }
      }
      for (const name of Object.keys(constants)) {
        if (!session.inputNames.includes(name)) {
          throw refuse(
            `constants names '${name}', which is not an input of the model (${session.inputNames.join(', ')})`,
            `constants.${name}`,
          );
        }
        const meta = session.inputMetadata.find((m) => m.name === name);
        const constant = constants[name]!;
        if (meta?.isTensor && meta.type !== constant.dtype) {
          throw refuse(
            `constant '${name}' is ${constant.dtype}; the model's input is ${meta.type}`,
            `constants.${name}.dtype`,
            meta.type,
          );
        }
        if (meta?.isTensor && meta.shape.length !== constant.shape.length) {
          throw refuse(
            `constant '${name}' has rank ${constant.shape.length}; the model's input is [${meta.shape.join(', ')}]`,
            `constants.${name}.shape`,
          );
        }
      }

      const meta = session.inputMetadata.find((m) => m.name === inputName);
      if (meta === undefined || !meta.isTensor) throw refuse(`input '${inputName}' is not a tensor`, 'input.name');
      if (meta.type !== 'float32')
        throw refuse(`input '${inputName}' is ${meta.type}; float32 is expected`, 'input.name', 'float32');
      const shape = meta.shape;
      if (shape.length !== inputAxes.length) {
        throw refuse(
          `input '${inputName}' is [${shape.join(', ')}] (rank ${shape.length}); input.layout '${descriptor.input.layout}' has rank ${inputAxes.length}`,
          'input.layout',
        );
      }
      if (!inputAxes.includes('B'))
        throw refuse(`input.layout '${descriptor.input.layout}' has no batch axis B`, 'input.layout');
      if (inputAxes.includes('D') || inputAxes.includes('L')) {
        throw refuse(`input.layout '${descriptor.input.layout}' may hold B, T (or S), F and 1 only`, 'input.layout');
      }
      if (!inputAxes.includes('F') && runner.bins !== 1) {
        throw refuse(
          `input.layout '${descriptor.input.layout}' has no F axis, but the front-end gives ${runner.bins} bins per frame`,
          'input.layout',
        );
      }
      // Frames per encoder call when every call has as many: a window, or an exact length.
      const length = descriptor.length;
      const exactFrames =
        length?.mode === 'exact' && (length.on ?? 'features') === 'features' ? length.frames : undefined;
      // An exact length on the waveform fixes the frames too: the front-end on silence of that length says how many.
      const waveformFrames =
        length?.mode === 'exact' && length.on === 'waveform'
          ? (await runner.features(new Float32Array(length.frames))).frames
          : undefined;
      const callFrames = descriptor.window?.frames ?? exactFrames ?? waveformFrames;
      let fixedBatch: number | undefined;
      inputAxes.forEach((axis, i) => {
        const size = shape[i];
        if (typeof size !== 'number' || size <= 0) return;
        const where = `input '${inputName}' [${shape.join(', ')}] axis ${i} ('${axis}')`;
        if (axis === 'B') fixedBatch = size;
        else if (axis === '1' && size !== 1) throw refuse(`${where} has size ${size}, not 1`, 'input.layout');
        else if (axis === 'F' && size !== runner.bins) {
          throw refuse(`${where} takes ${size} bins; frontEnd gives ${runner.bins}`, 'frontEnd', String(size));
        } else if ((axis === 'T' || axis === 'S') && size !== callFrames) {
          const field = descriptor.window ? 'window.frames' : 'length.frames';
          throw refuse(
            callFrames === undefined
              ? `${where} takes ${size} frames; give a window of ${size} frames or length { mode: 'exact', frames: ${size} }`
              : `${where} takes ${size} frames; the descriptor gives ${callFrames} per call (${field})`,
            field,
            String(size),
          );
        }
      });

      // The feature outputs: present, and of the layout's rank.
      const expanded = expandOutputs(descriptor);
      const outputs: FeatureOutput[] = [];
      for (const [i, out] of expanded.entries()) {
        const where = `outputs[${i}]`;
        if (!session.outputNames.includes(out.name)) {
          throw refuse(
            `the model has no output '${out.name}'; its outputs are ${session.outputNames.join(', ')}`,
            where,
            session.outputNames.join(' | '),
          );
        }
        const axes = parseLayout(out.layout, `${where}.layout`);
        if (!axes.includes('B') || !axes.includes('D'))
          throw refuse(`${where}.layout '${out.layout}' needs a batch axis B and a channel axis D`, `${where}.layout`);
        if (axes.includes('S'))
          throw refuse(`${where}.layout '${out.layout}' has S; outputs have T (time), not samples`, `${where}.layout`);
        const outMeta = session.outputMetadata.find((m) => m.name === out.name);
        if (outMeta?.isTensor) {
          if (outMeta.shape.length !== axes.length) {
            throw refuse(
              `output '${out.name}' is [${outMeta.shape.join(', ')}] (rank ${outMeta.shape.length}); ${where}.layout '${out.layout}' has rank ${axes.length}`,
              `${where}.layout`,
            );
          }
          if (outMeta.type !== 'float32')
            throw refuse(`output '${out.name}' is ${outMeta.type}; float32 is expected`, where, 'float32');
        }
        outputs.push({
          name: out.name,
          axes,
          layers: 1,
          firstLayer: 0,
          shape: { F: 1, D: 1, grid: axes.includes('F'), fixedT: undefined },
        });
      }
      if (outputs.length === 0) throw refuse('outputs is empty', 'outputs');

      // One probe call on zeros settles what metadata leaves free: L, T, F and D of every output.
      const probeBatch = fixedBatch ?? 1;
      // Free length: a second of waveform, or 100 frames.
      const probeFrames = callFrames ?? (runner.bins === 1 ? runner.sampleRate : 100);
      const probe = await EncoderEmbedder.run(
        session,
        { inputName, inputAxes, constants },
        new Float32Array(probeBatch * probeFrames * runner.bins),
        probeBatch,
        probeFrames,
        runner.bins,
        outputs.map((o) => o.name),
        (problem) => refuse(`the model rejects a zero probe input: ${problem}`, 'input'),
      );
      const windows = EncoderEmbedder.fixedWindowCount(descriptor);
      let next = 1;
      for (const out of outputs) {
        const tensor = probe[out.name]!;
        const canon = transpose(tensor.data as Float32Array, out.axes, tensor.dims, CANONICAL_OUT);
        const [L, B, T, F, D] = canon.dims as [number, number, number, number, number];
        if (B !== probeBatch)
          throw refuse(`output '${out.name}' has batch ${B} for an input batch of ${probeBatch}`, 'outputs');
        out.layers = L;
        out.firstLayer = next;
        next += L;
        // Tokens per call are fixed when the input length is: then a fixed window count fixes them per clip.
        const fixedT = callFrames !== undefined && windows !== undefined ? T * windows : undefined;
        out.shape = { F, D, grid: out.axes.includes('F'), fixedT };
      }
      return new EncoderEmbedder(
        descriptor,
        file,
        open,
        runner,
        inputName,
        inputAxes,
        fixedBatch,
        outputs,
        next - 1,
        id,
      );
    } catch (err) {
      await open?.session.release();
      await runner.dispose();
      throw err;
    }
  }

  /** Windows per clip when every clip has as many: an exact length on the features (or no windows at all). */
  private static fixedWindowCount(descriptor: EncoderDescriptor): number | undefined {
    const { length, window } = descriptor;
    const exact = length?.mode === 'exact' && (length.on ?? 'features') === 'features' ? length.frames : undefined;
    if (window === undefined) return length?.mode === 'exact' ? 1 : undefined;
    if (exact === undefined) return undefined;
    return cutWindows({ data: new Float32Array(exact), frames: exact, bins: 1 }, window).length;
  }

  /** One encoder call on a canonical [B, T, F] batch. */
  private static async run(
    session: ort.InferenceSession,
    plan: { inputName: string; inputAxes: Axis[]; constants: Record<string, ConstantInput> },
    data: Float32Array,
    batch: number,
    frames: number,
    bins: number,
    outputNames: string[],
    fault: (problem: string) => Error,
  ): Promise<ort.InferenceSession.ReturnType> {
    const input = transpose(data, ['B', 'T', 'F'], [batch, frames, bins], plan.inputAxes);
    const feeds: Record<string, ort.Tensor> = { [plan.inputName]: new ort.Tensor('float32', input.data, input.dims) };
    for (const [name, spec] of Object.entries(plan.constants)) feeds[name] = constantTensor(spec, batch);
    try {
      return await session.run(feeds, outputNames);
    } catch (err) {
      throw fault((err as Error).message.split('\n')[0] ?? String(err));
    }
  }

  private shapeOf(layer: number): { out: FeatureOutput; index: number } {
    const out = this.outputs.find((o) => layer >= o.firstLayer && layer < o.firstLayer + o.layers);
    if (out === undefined || !Number.isInteger(layer)) {
      throw new GenrepError(
        `layers: ${this.descriptor.name} has layers 1..${this.numLayers}, got ${layer}`,
        'BAD_INPUT',
        {
          field: 'layers',
          expected: `1..${this.numLayers}`,
        },
      );
    }
    return { out, index: layer - out.firstLayer };
  }

  /** One width for every layer, as banks and scoring expect: outputs that pool to different widths are refused. */
  dim(pooling: Pooling): number {
    const widths = this.outputs.map((out) => {
      this.checkPooling(out, pooling);
      return pooledDim(out.shape, pooling, this.descriptor.statistics);
    });
    const [first] = widths;
    if (first === undefined || widths.some((w) => w !== first)) {
      throw fileError(
        this.file,
        `its outputs pool to different widths with '${pooling}' (${this.outputs.map((o, i) => `${o.name}: ${widths[i]}`).join(', ')}); every layer needs the same`,
        'BAD_INPUT',
        { field: 'outputs' },
      );
    }
    return first;
  }

  private checkPooling(out: FeatureOutput, pooling: Pooling): void {
    const misfit = poolingMisfit(out.shape, pooling);
    if (misfit === undefined) return;
    // EMBEDDER_POOLINGS lists all three for encoders: which apply depends on the output, so the refusal is here.
    const supported = POOLINGS.filter((p) => poolingMisfit(out.shape, p) === undefined);
    throw fileError(
      this.file,
      `pooling '${pooling}' does not apply to output '${out.name}' of ${this.descriptor.name}, ${misfit}; ` +
        `use ${supported.map((p) => `'${p}'`).join(' or ')}`,
      'BAD_INPUT',
      { field: 'pooling', expected: supported.join(' | ') },
    );
  }

  /** One clip → its encoder calls' inputs, canonical [frames × bins] each. */
  private async clipInputs(clip: Float32Array): Promise<FrontEndOutput[]> {
    const { length, window } = this.descriptor;
    let wave = this.frontEnd.toModelRate(clip);
    if (length !== undefined && length.on === 'waveform') {
      wave = applyLength({ data: wave, frames: wave.length, bins: 1 }, length).data;
    }
    let features = await this.frontEnd.features(wave);
    if (length !== undefined && (length.on ?? 'features') === 'features') features = applyLength(features, length);
    features = this.frontEnd.finish(features);
    return window === undefined ? [features] : cutWindows(features, window);
  }

  async embed(clips: readonly Float32Array[], options: EmbedOptions): Promise<Float32Array[]> {
    if (options.layers.length === 0)
      throw new GenrepError('layers: at least one layer is required', 'BAD_INPUT', { field: 'layers' });
    const wanted = options.layers.map((layer) => this.shapeOf(layer));
    for (const { out } of wanted) this.checkPooling(out, options.pooling);
    const dims = wanted.map(({ out }) => pooledDim(out.shape, options.pooling, this.descriptor.statistics));
    const result = dims.map((dim) => new Float32Array(clips.length * dim));
    const names = [...new Set(wanted.map(({ out }) => out.name))];
    const bins = this.frontEnd.bins;
    const batchSize = this.fixedBatch ?? options.batchSize ?? DEFAULT_BATCH;

    for (const [c, clip] of clips.entries()) {
      options.signal?.throwIfAborted();
      const frontEndStarted = performance.now();
      const calls = await this.clipInputs(clip);
      options.stageTimes?.add('frontEnd', performance.now() - frontEndStarted, 1);
      // Per requested layer, this clip's tokens from each call, stacked along time afterwards.
      const parts: Tokens[][] = wanted.map(() => []);
      for (let start = 0; start < calls.length; start += batchSize) {
        const group = calls.slice(start, start + batchSize);
        const frames = group[0]!.frames;
        const batch = this.fixedBatch ?? group.length;
        const data = new Float32Array(batch * frames * bins);
        group.forEach((g, i) => data.set(g.data, i * frames * bins));
        const encoderStarted = performance.now();
        const ran = await EncoderEmbedder.run(
          this.open.session,
          { inputName: this.inputName, inputAxes: this.inputAxes, constants: this.descriptor.constants ?? {} },
          data,
          batch,
          frames,
          bins,
          names,
          (problem) => fileError(this.file, `the encoder failed on clip ${c}: ${problem}`, 'BAD_INPUT'),
        );
        // A clip cut into several windows counts once, with its first call.
        options.stageTimes?.add('encoder', performance.now() - encoderStarted, start === 0 ? 1 : 0);
        const canon = new Map(
          names.map((name) => {
            const out = this.outputs.find((o) => o.name === name)!;
            const tensor = ran[name]!;
            return [name, transpose(tensor.data as Float32Array, out.axes, tensor.dims, CANONICAL_OUT)];
          }),
        );
        wanted.forEach(({ out, index }, k) => {
          const {
            data: values,
            dims: [, B, T, F, D],
          } = canon.get(out.name)!;
          const per = T! * F! * D!;
          for (let i = 0; i < group.length; i++) {
            const offset = (index * B! + i) * per;
            parts[k]!.push({ data: values.slice(offset, offset + per), T: T!, F: F!, D: D! });
          }
        });
      }
      wanted.forEach((_, k) => {
        const pooled = poolTokens(stackTime(parts[k]!), options.pooling, this.descriptor.statistics);
        if (pooled.length !== dims[k]) {
          throw fileError(
            this.file,
            `clip ${c} pools to ${pooled.length} values; this encoder's ${options.pooling} dimension is ${dims[k]}`,
            'BAD_INPUT',
          );
        }
        result[k]!.set(pooled, c * dims[k]);
      });
      options.onProgress?.(c + 1, clips.length);
    }
    return result;
  }

  async dispose(): Promise<void> {
    await this.open.session.release();
    await this.frontEnd.dispose();
  }
}

/** createEmbedder's entry: the descriptor file read and checked, then the embedder built from it. */
export async function createEncoderEmbedder(
  descriptorFile: string,
  options: Omit<EncoderEmbedderOptions, 'baseDir' | 'file'> = {},
): Promise<EncoderEmbedder> {
  const { descriptor, baseDir, file } = await readDescriptorFile(descriptorFile);
  return EncoderEmbedder.create(descriptor, { ...options, baseDir, file });
}
