import * as path from 'node:path';
import { GenrepError } from '../../errors';
import { openSession, ort } from '../../onnx/runtime';
import type { OnnxFrontEnd } from '../../protocol/encoderDescriptor';
import type { FrontEndOutput, FrontEndRunner } from '../frontEnd';
import { badField, finiteNumber, knownKeys, objectAt } from './fields';
import { readWaveformPrep, toModelRate, type WaveformPrep } from './waveform';

/** Where B, T and (optionally) F sit in the front-end output's layout; every other axis is '1'. */
interface Axes {
  rank: number;
  b: number;
  t: number;
  f: number | undefined;
}

function parseLayout(layout: unknown): Axes {
  if (typeof layout !== 'string') throw badField('/frontEnd/layout', "a layout such as 'B,1,T,F'", layout);
  const axes = layout.split(',').map((a) => a.trim());
  const expected = "comma-separated axes: B and T once each, F at most once, any number of '1'";
  if (axes.some((a) => !['B', 'T', 'F', '1'].includes(a))) throw badField('/frontEnd/layout', expected, layout);
  const once = (letter: string) => axes.filter((a) => a === letter).length;
  if (once('B') !== 1 || once('T') !== 1 || once('F') > 1) throw badField('/frontEnd/layout', expected, layout);
  const f = axes.indexOf('F');
  return { rank: axes.length, b: axes.indexOf('B'), t: axes.indexOf('T'), f: f < 0 ? undefined : f };
}

type Affine = { offset: number; divide: number };

/** The optional final (x + offset) / divide, checked as LogMelFrontEnd's. */
function readAffine(value: unknown): Affine | undefined {
  if (value === undefined) return undefined;
  const a = objectAt(value, '/frontEnd/affine');
  knownKeys(a, '/frontEnd/affine', ['offset', 'divide']);
  const divide = finiteNumber(a['divide'], '/frontEnd/affine/divide');
  if (divide === 0) throw badField('/frontEnd/affine/divide', 'a non-zero number', divide);
  return { offset: finiteNumber(a['offset'], '/frontEnd/affine/offset'), divide };
}

function pickName(
  given: unknown,
  names: readonly string[],
  pointer: string,
  which: 'input' | 'output',
  file: string,
): string {
  if (given !== undefined) {
    if (typeof given !== 'string' || !names.includes(given)) {
      throw badField(pointer, `one of the model's ${which}s (${names.join(', ')})`, given);
    }
    return given;
  }
  if (names.length !== 1) {
    throw new GenrepError(
      `${file}: the front-end model has ${names.length} ${which}s (${names.join(', ')}); say which in ${pointer}`,
      'BAD_INPUT',
      { file, field: pointer, expected: `one ${which} name` },
    );
  }
  return names[0]!;
}

/** An ONNX front-end fed [1, samples] float32; its output read through `layout` as [T × F]. */
export class OnnxFrontEndRunner implements FrontEndRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly file: string,
    private readonly prep: WaveformPrep,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly axes: Axes,
    private readonly affine: Affine | undefined,
    readonly bins: number,
  ) {}

  get sampleRate(): number {
    return this.prep.sampleRate;
  }

  static async create(raw: OnnxFrontEnd, baseDir: string, threads: number | undefined): Promise<OnnxFrontEndRunner> {
    const fe = raw as unknown as Record<string, unknown>;
    knownKeys(fe, '/frontEnd', ['kind', 'model', 'sampleRate', 'scale', 'input', 'output', 'layout', 'affine']);
    const prep = readWaveformPrep(fe, false);
    const axes = parseLayout(fe['layout']);
    const affine = readAffine(fe['affine']);
    if (typeof fe['model'] !== 'string' || fe['model'] === '') {
      throw badField('/frontEnd/model', 'the path of an ONNX file', fe['model']);
    }
    const file = path.resolve(baseDir, fe['model']);
    const { session } = await openSession(file, threads === undefined ? { device: 'cpu' } : { threads, device: 'cpu' });
    try {
      const inputName = pickName(fe['input'], session.inputNames, '/frontEnd/input', 'input', file);
      const outputName = pickName(fe['output'], session.outputNames, '/frontEnd/output', 'output', file);
      const inMeta = session.inputMetadata.find((m) => m.name === inputName);
      if (inMeta?.isTensor && inMeta.shape.length !== 0 && inMeta.shape.length !== 2) {
        throw badField(
          '/frontEnd/input',
          `an input of rank 2 ([1, samples]) in ${file}`,
          `rank ${inMeta.shape.length}`,
        );
      }
      if (inMeta?.isTensor && inMeta.type !== 'float32') {
        throw badField('/frontEnd/input', `a float32 input in ${file}`, inMeta.type);
      }
      const outMeta = session.outputMetadata.find((m) => m.name === outputName);
      let bins: number | undefined;
      if (outMeta?.isTensor && outMeta.shape.length !== 0) {
        if (outMeta.shape.length !== axes.rank) {
          throw badField(
            '/frontEnd/layout',
            `${outMeta.shape.length} axes, the rank of output '${outputName}' in ${file}`,
            fe['layout'],
          );
        }
        const fDim = axes.f === undefined ? 1 : outMeta.shape[axes.f];
        if (typeof fDim === 'number') bins = fDim;
      }
      const runner = new OnnxFrontEndRunner(session, file, prep, inputName, outputName, axes, affine, bins ?? 0);
      if (bins === undefined) {
        // A symbolic F axis: one second of silence tells how many bins the model gives.
        const probe = await runner.features(new Float32Array(prep.sampleRate));
        return new OnnxFrontEndRunner(session, file, prep, inputName, outputName, axes, affine, probe.bins);
      }
      return runner;
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  toModelRate(clip16k: Float32Array): Float32Array {
    return toModelRate(clip16k, this.prep);
  }

  async features(waveform: Float32Array): Promise<FrontEndOutput> {
    const input = new ort.Tensor('float32', waveform, [1, waveform.length]);
    const result = await this.session.run({ [this.inputName]: input });
    const tensor = result[this.outputName];
    if (!(tensor instanceof ort.Tensor) || tensor.type !== 'float32') {
      throw new GenrepError(`${this.file}: output '${this.outputName}' is not a float32 tensor`, 'BAD_INPUT', {
        file: this.file,
        field: '/frontEnd/output',
      });
    }
    const dims = tensor.dims;
    // B (like every unit axis) must have size 1: one clip per run.
    const { t, f, rank } = this.axes;
    const unitOk = dims.every((d, i) => i === t || i === f || d === 1);
    if (dims.length !== rank || !unitOk) {
      throw new GenrepError(
        `${this.file}: output '${this.outputName}' has shape [${dims.join(', ')}], which does not fit /frontEnd/layout (${rank} axes, B and unit axes of size 1)`,
        'BAD_INPUT',
        { file: this.file, field: '/frontEnd/layout' },
      );
    }
    const frames = dims[t]!;
    const bins = f === undefined ? 1 : dims[f]!;
    const src = tensor.data as Float32Array;
    // Strides of T and F in the row-major output; every other axis has size 1.
    const stride = (axis: number) => dims.slice(axis + 1).reduce((a, c) => a * c, 1);
    const st = stride(t);
    const sf = f === undefined ? 0 : stride(f);
    const data = new Float32Array(frames * bins);
    // In bounds: i < frames = dims[t] and j < bins = dims[f], so i·st + j·sf < src.length.
    for (let i = 0; i < frames; i++) for (let j = 0; j < bins; j++) data[i * bins + j] = src[i * st + j * sf]!;
    if (this.affine) {
      const { offset, divide } = this.affine;
      // In bounds: i < data.length.
      for (let i = 0; i < data.length; i++) data[i] = (data[i]! + offset) / divide;
    }
    return { data, frames, bins };
  }

  finish(output: FrontEndOutput): FrontEndOutput {
    return output;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
