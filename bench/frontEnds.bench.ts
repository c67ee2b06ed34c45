/**
 * `npm run bench:frontends`: milliseconds per 10 s clip for each encoder front-end kind (worker/src/encoders/
 * frontEnds/), single thread, on one seeded synthetic clip: resampling and scaling (toModelRate) plus the features,
 * best of --repeats R runs (default 7).
 */
import { cpus } from 'node:os';
import type * as FrontEndsModule from '../worker/src/encoders/frontEnds';
import type { FrontEnd } from '../worker/src/protocol/encoderDescriptor';
import type * as Mulberry32Module from '../worker/src/util/mulberry32';
import { builtWorker } from './builtWorker';

const { createFrontEnd } = builtWorker<typeof FrontEndsModule>('encoders/frontEnds');
const { mulberry32 } = builtWorker<typeof Mulberry32Module>('util/mulberry32');

const repeatsAt = process.argv.indexOf('--repeats');
const REPEATS = repeatsAt >= 0 ? Number(process.argv[repeatsAt + 1]) : 7;

const STFT = { kind: 'log-mel', sampleRate: 16000, center: true, f_min: 0 } as const;
const CASES: Record<string, FrontEnd> = {
  'waveform 16 kHz, normalize': { kind: 'waveform', sampleRate: 16000, normalize: true },
  'waveform 32 kHz (resampled)': { kind: 'waveform', sampleRate: 32000 },
  'kaldi-fbank (AST)': {
    kind: 'kaldi-fbank',
    sampleRate: 16000,
    scale: 'int16',
    options: { htk_compat: true, window_type: 'hanning', num_mel_bins: 128, dither: 0, frame_shift: 10 },
    astNormalize: { mean: -4.2677393, std: 4.5689974 },
  },
  'log-mel (Whisper)': {
    ...STFT,
    n_fft: 400,
    hop_length: 160,
    window: 'hann',
    power: 2,
    n_mels: 80,
    mel_scale: 'slaney',
    norm: 'slaney',
    log: { kind: 'log10' },
    whisper: true,
  },
  'log-mel (HTK, dB)': {
    ...STFT,
    n_fft: 400,
    hop_length: 200,
    window: 'hann',
    power: 2,
    n_mels: 128,
    mel_scale: 'htk',
    log: { kind: 'db', top_db: 80 },
  },
  'log-mel (EfficientAT-like, 32 kHz)': {
    ...STFT,
    sampleRate: 32000,
    n_fft: 1024,
    win_length: 800,
    hop_length: 320,
    window: 'hann',
    power: 2,
    n_mels: 128,
    mel_scale: 'kaldi',
    log: { kind: 'ln', offset: 1e-5 },
    preemphasis: 0.97,
    affine: { offset: 4.5, divide: 5 },
  },
};

async function main(): Promise<void> {
  const rand = mulberry32(7);
  const clip = Float32Array.from(
    { length: 160000 },
    (_, t) => 0.3 * Math.sin(t * 0.07) + 0.2 * Math.sin(t * 0.9 + 0.001 * t * t * 1e-3) + 0.05 * (rand() - 0.5),
  );
  console.log(`front-ends, ms per 10 s clip (best of ${REPEATS}), ${cpus()[0]?.model ?? 'unknown CPU'}`);
  for (const [name, frontEnd] of Object.entries(CASES)) {
    const runner = await createFrontEnd(frontEnd, '.', { threads: 1 });
    let best = Infinity;
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      runner.finish(await runner.features(runner.toModelRate(clip)));
      best = Math.min(best, performance.now() - t0);
    }
    await runner.dispose();
    console.log(`${name.padEnd(38)} ${best.toFixed(1).padStart(7)} ms`);
  }
}

void main();
