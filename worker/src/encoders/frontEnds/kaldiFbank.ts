import { GenrepError } from '../../errors';
import { FbankComputer } from '../../fbank/computer';
import type { KaldiFbankFrontEnd } from '../../protocol/encoderDescriptor';
import type { FrontEndOutput, FrontEndRunner } from '../frontEnd';
import { badField, finiteNumber, knownKeys, objectAt } from './fields';
import { readWaveformPrep, toModelRate, type WaveformPrep } from './waveform';

/** torchaudio.compliance.kaldi.fbank through our exact fbank; `finish` is ASTFeatureExtractor's normalisation. */
export class KaldiFbankRunner implements FrontEndRunner {
  readonly sampleRate: number;
  readonly bins: number;
  private readonly prep: WaveformPrep;
  private readonly computer: FbankComputer;
  private readonly ast: { mean: number; std: number } | undefined;

  constructor(raw: KaldiFbankFrontEnd) {
    const fe = raw as unknown as Record<string, unknown>;
    knownKeys(fe, '/frontEnd', ['kind', 'sampleRate', 'scale', 'options', 'astNormalize']);
    this.prep = readWaveformPrep(fe, false);
    this.sampleRate = this.prep.sampleRate;
    const options = { ...objectAt(fe['options'], '/frontEnd/options') };
    const given = options['sample_frequency'];
    if (given !== undefined && given !== this.sampleRate) {
      throw badField('/frontEnd/options/sample_frequency', `the front-end's sampleRate (${this.sampleRate})`, given);
    }
    options['sample_frequency'] = this.sampleRate;
    try {
      this.computer = new FbankComputer(options);
    } catch (err) {
      // The fbank names the option; the descriptor's reader needs where it sits.
      if (err instanceof GenrepError && err.data.field !== undefined) {
        const pointer = `/frontEnd/options/${err.data.field}`;
        throw new GenrepError(`${pointer}: ${err.message.replace(/^fbank option [^:]*: /, '')}`, err.code, {
          field: pointer,
          ...(err.data.expected !== undefined ? { expected: err.data.expected } : {}),
        });
      }
      throw err;
    }
    this.bins = this.computer.bins;
    if (fe['astNormalize'] !== undefined) {
      const a = objectAt(fe['astNormalize'], '/frontEnd/astNormalize');
      knownKeys(a, '/frontEnd/astNormalize', ['mean', 'std']);
      const std = finiteNumber(a['std'], '/frontEnd/astNormalize/std');
      if (!(std > 0)) throw badField('/frontEnd/astNormalize/std', 'a positive number', std);
      this.ast = { mean: finiteNumber(a['mean'], '/frontEnd/astNormalize/mean'), std };
    }
  }

  toModelRate(clip16k: Float32Array): Float32Array {
    return toModelRate(clip16k, this.prep);
  }

  features(waveform: Float32Array): Promise<FrontEndOutput> {
    // A bad clip becomes a rejection, not a synchronous throw from a Promise-returning method.
    return Promise.resolve().then(() => {
      const { data, frames, bins } = this.computer.compute(waveform);
      return { data, frames, bins };
    });
  }

  /** ASTFeatureExtractor: (x − mean) / (2 · std), after the embedder has cropped or padded the frames. */
  finish(output: FrontEndOutput): FrontEndOutput {
    if (!this.ast) return output;
    const { mean, std } = this.ast;
    const data = new Float32Array(output.data.length);
    // In bounds: i < data.length = output.data.length.
    for (let i = 0; i < data.length; i++) data[i] = (output.data[i]! - mean) / (2 * std);
    return { data, frames: output.frames, bins: output.bins };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
