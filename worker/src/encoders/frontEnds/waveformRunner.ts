import type { WaveformFrontEnd } from '../../protocol/encoderDescriptor';
import type { FrontEndOutput, FrontEndRunner } from '../frontEnd';
import { knownKeys } from './fields';
import { readWaveformPrep, toModelRate, type WaveformPrep } from './waveform';

/** The waveform itself, [samples × 1] (Wav2Vec2FeatureExtractor, CLAP, PANNs, EfficientAT's raw input). */
export class WaveformRunner implements FrontEndRunner {
  readonly sampleRate: number;
  readonly bins = 1;
  private readonly prep: WaveformPrep;

  constructor(raw: WaveformFrontEnd) {
    const fe = raw as unknown as Record<string, unknown>;
    knownKeys(fe, '/frontEnd', ['kind', 'sampleRate', 'scale', 'normalize']);
    this.prep = readWaveformPrep(fe, true);
    this.sampleRate = this.prep.sampleRate;
  }

  toModelRate(clip16k: Float32Array): Float32Array {
    return toModelRate(clip16k, this.prep);
  }

  features(waveform: Float32Array): Promise<FrontEndOutput> {
    return Promise.resolve({ data: waveform, frames: waveform.length, bins: 1 });
  }

  finish(output: FrontEndOutput): FrontEndOutput {
    return output;
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
