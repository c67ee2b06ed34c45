import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../worker/src/audio/wavReader';
import type { LogMelRunner } from '../../worker/src/encoders/frontEnds';
import { createFrontEnd } from '../../worker/src/encoders/frontEnds';
import { FBANK_EPSILON, fbank } from '../../worker/src/fbank';
import { readNpy } from '../../worker/src/io/npy';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import type { FrontEnd, LogMelFrontEnd } from '../../worker/src/protocol/encoderDescriptor';
import { genrepRejection } from '../helpers/errors';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'encoders', 'frontends');
async function inputs(): Promise<Record<'real' | 'synth', Float32Array>> {
  const manifest = JSON.parse(await fsp.readFile(path.join(FIXTURES, 'manifest.json'), 'utf8')) as {
    real: { wav: string; start: number; length: number };
  };
  const wav = path.join(__dirname, '..', '..', manifest.real.wav);
  const audio = decodeWav(new Uint8Array(await fsp.readFile(wav)), wav);
  const real = audio.samples.slice(manifest.real.start, manifest.real.start + manifest.real.length);
  const synth = (await readNpy(path.join(FIXTURES, 'synth.npy'))).data;
  return { real, synth };
}

const AST: FrontEnd = {
  kind: 'kaldi-fbank',
  sampleRate: 16000,
  scale: 'int16',
  options: {
    htk_compat: true,
    use_energy: false,
    window_type: 'hanning',
    num_mel_bins: 128,
    dither: 0.0,
    frame_shift: 10,
  },
  astNormalize: { mean: -4.2677393, std: 4.5689974 },
};
const WHISPER: LogMelFrontEnd = {
  kind: 'log-mel',
  sampleRate: 16000,
  n_fft: 400,
  hop_length: 160,
  window: 'hann',
  center: true,
  power: 2,
  n_mels: 80,
  f_min: 0,
  f_max: 8000,
  mel_scale: 'slaney',
  norm: 'slaney',
  log: { kind: 'log10', amin: 1e-10 },
  whisper: true,
};
const HTK_DB: LogMelFrontEnd = {
  kind: 'log-mel',
  sampleRate: 16000,
  n_fft: 400,
  hop_length: 200,
  window: 'hann',
  center: true,
  power: 2,
  n_mels: 128,
  f_min: 0,
  mel_scale: 'htk',
  log: { kind: 'db', top_db: 80 },
};
const SLANEY_LN: LogMelFrontEnd = {
  kind: 'log-mel',
  sampleRate: 16000,
  n_fft: 1024,
  win_length: 800,
  hop_length: 320,
  window: 'hamming',
  center: true,
  pad_mode: 'constant',
  power: 1,
  n_mels: 64,
  f_min: 50,
  f_max: 7600,
  mel_scale: 'slaney',
  norm: 'slaney',
  log: { kind: 'ln', offset: 1e-6 },
};
/** EfficientAT's symmetric Hann (torch.hann_window(800, periodic=False)) in a 1024-point FFT. */
const HANN_SYMMETRIC: LogMelFrontEnd = {
  kind: 'log-mel',
  sampleRate: 16000,
  n_fft: 1024,
  win_length: 800,
  hop_length: 320,
  window: 'hann',
  periodic: false,
  center: true,
  power: 2,
  n_mels: 64,
  f_min: 0,
  mel_scale: 'htk',
  log: { kind: 'ln', offset: 1e-5 },
};
const CASES: Record<string, FrontEnd> = {
  ast: AST,
  whisper: WHISPER,
  htk_db: HTK_DB,
  slaney_ln: SLANEY_LN,
  hann_symmetric: HANN_SYMMETRIC,
};

describe('front-ends against their references (≤ 1e-4 abs on log values)', () => {
  for (const [name, frontEnd] of Object.entries(CASES)) {
    for (const input of ['real', 'synth'] as const) {
      it(`${name} on the ${input} clip`, async () => {
        const clip = (await inputs())[input];
        const runner = await createFrontEnd(frontEnd, FIXTURES);
        const expected = await readNpy(path.join(FIXTURES, `${name}__${input}.npy`));
        const got = runner.finish(await runner.features(runner.toModelRate(clip)));
        expect([got.frames, got.bins]).toEqual(expected.shape);
        expect(runner.bins).toBe(got.bins);
        let worst = 0;
        // In bounds: the shapes are equal, checked above.
        for (let i = 0; i < got.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - expected.data[i]!));
        expect(worst).toBeLessThanOrEqual(1e-4);
        if (process.env['GENREP_PRINT_ERRORS'])
          console.log(`${name}/${input}: max abs error ${worst.toExponential(2)}`);
        await runner.dispose();
      });
    }
  }

  it('the symmetric-window golden tells the windows apart: a periodic Hann misses it', async () => {
    const clip = (await inputs()).real;
    const expected = await readNpy(path.join(FIXTURES, 'hann_symmetric__real.npy'));
    const runner = await createFrontEnd({ ...HANN_SYMMETRIC, periodic: true }, FIXTURES);
    const got = await runner.features(runner.toModelRate(clip));
    let worst = 0;
    // In bounds: same front-end shape as the golden's (only the window's values differ).
    for (let i = 0; i < got.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - expected.data[i]!));
    expect(worst).toBeGreaterThan(1e-3);
  });

  it('a 10 s clip takes a few tens of ms for the Whisper log-mel', async () => {
    const runner = (await createFrontEnd(WHISPER, FIXTURES)) as LogMelRunner;
    const clip = Float32Array.from({ length: 160000 }, (_, i) => Math.sin(i * 0.01));
    runner.compute(clip);
    const t0 = performance.now();
    const out = runner.compute(clip);
    const ms = performance.now() - t0;
    expect(out.frames).toBe(1000);
    expect(ms).toBeLessThan(250); // generous for a shared CI core; ~20 ms on an idle one
  });
});

describe("log-mel with mel_scale 'kaldi', pre-emphasis and affine", () => {
  const clip = Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i * 0.05) + 0.3 * Math.sin(i * 1.3));
  const kaldi: LogMelFrontEnd = {
    kind: 'log-mel',
    sampleRate: 16000,
    n_fft: 400,
    hop_length: 160,
    window: 'rectangular',
    center: false,
    power: 2,
    n_mels: 40,
    f_min: 20,
    mel_scale: 'kaldi',
    log: { kind: 'ln', amin: FBANK_EPSILON },
  };

  it('equals our Kaldi fbank with the same frames (rectangular window, no DC removal or pre-emphasis)', async () => {
    const runner = await createFrontEnd(kaldi, '.');
    const got = await runner.features(clip);
    const ref = fbank(clip, {
      num_mel_bins: 40,
      window_type: 'rectangular',
      remove_dc_offset: false,
      preemphasis_coefficient: 0,
      round_to_power_of_two: false,
    });
    expect([got.frames, got.bins]).toEqual([ref.frames, ref.bins]);
    let worst = 0;
    // In bounds: equal shapes, checked above.
    for (let i = 0; i < got.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - ref.data[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('pre-emphasis is y[n] = x[n + 1] − c·x[n] (EfficientAT), affine is (x + offset) / divide', async () => {
    const plain = await createFrontEnd(kaldi, '.');
    const emphasised = Float32Array.from({ length: clip.length - 1 }, (_, n) => clip[n + 1]! - 0.97 * clip[n]!);
    const expected = await plain.features(emphasised);
    const runner = await createFrontEnd({ ...kaldi, preemphasis: 0.97, affine: { offset: 4.5, divide: 5 } }, '.');
    const got = await runner.features(clip);
    expect(got.frames).toBe(expected.frames);
    let worst = 0;
    // In bounds: equal frame counts and bins.
    for (let i = 0; i < got.data.length; i++) {
      worst = Math.max(worst, Math.abs(got.data[i]! - (expected.data[i]! + 4.5) / 5));
    }
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('waveform scaling, normalisation and rates', () => {
  const clip = Float32Array.from({ length: 16000 }, (_, i) => 0.25 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 0.1);

  it('int16 multiplies by 32768; unit leaves the clip as is', async () => {
    const unit = await createFrontEnd({ kind: 'waveform', sampleRate: 16000 }, '.');
    const int16 = await createFrontEnd({ kind: 'waveform', sampleRate: 16000, scale: 'int16' }, '.');
    const u = unit.toModelRate(clip);
    const s = int16.toModelRate(clip);
    expect(u).toEqual(clip);
    expect(s[100]).toBe(clip[100]! * 32768);
    const f = await unit.features(u);
    expect([f.frames, f.bins, unit.bins]).toEqual([16000, 1, 1]);
  });

  it('normalize gives zero mean and unit variance (Wav2Vec2FeatureExtractor)', async () => {
    const runner = await createFrontEnd({ kind: 'waveform', sampleRate: 16000, normalize: true }, '.');
    const y = runner.toModelRate(clip);
    let mean = 0;
    for (const v of y) mean += v;
    mean /= y.length;
    let variance = 0;
    for (const v of y) variance += (v - mean) ** 2;
    expect(Math.abs(mean)).toBeLessThan(1e-6);
    expect(variance / y.length).toBeCloseTo(1, 4);
  });

  for (const rate of [32000, 48000]) {
    it(`resamples to ${rate} Hz: length and the tone's frequency`, async () => {
      const runner = await createFrontEnd({ kind: 'waveform', sampleRate: rate }, '.');
      expect(runner.sampleRate).toBe(rate);
      const y = runner.toModelRate(clip);
      expect(y.length).toBe(rate);
      // Upward zero crossings of the (DC-shifted) 440 Hz tone over the middle half second: 220 of them.
      let crossings = 0;
      for (let i = rate / 4 + 1; i < (3 * rate) / 4; i++) if (y[i - 1]! < 0.1 && y[i]! >= 0.1) crossings++;
      expect(Math.abs(crossings - 220)).toBeLessThanOrEqual(1);
    });
  }

  it('a log-mel at 32 kHz has frames from the resampled length', async () => {
    const runner = await createFrontEnd({ ...HTK_DB, sampleRate: 32000, n_fft: 1024, hop_length: 320 }, '.');
    const out = await runner.features(runner.toModelRate(clip));
    expect([out.frames, out.bins]).toEqual([1 + Math.floor(32000 / 320), 128]);
  });
});

describe('front-end validation', () => {
  const cases: [string, FrontEnd, string][] = [
    ['n_fft 0', { ...WHISPER, n_fft: 0 }, '/frontEnd/n_fft: expected a positive integer ≥ 2, found 0'],
    [
      'win_length > n_fft',
      { ...WHISPER, win_length: 401 },
      '/frontEnd/win_length: expected at most n_fft (400), found 401',
    ],
    [
      'f_max above Nyquist',
      { ...WHISPER, f_max: 9000 },
      '/frontEnd/f_max: expected a frequency in (f_min = 0, 8000] Hz (Nyquist), found 9000',
    ],
    ['unknown window', { ...WHISPER, window: 'kaiser' } as unknown as FrontEnd, '/frontEnd/window: expected one of'],
    [
      'periodic "no"',
      { ...WHISPER, periodic: 'no' } as unknown as FrontEnd,
      '/frontEnd/periodic: expected true or false, found "no"',
    ],
    ['power 3', { ...WHISPER, power: 3 } as unknown as FrontEnd, '/frontEnd/power: expected one of 1 | 2, found 3'],
    ['top_db on ln', { ...SLANEY_LN, log: { kind: 'ln', top_db: 80 } }, '/frontEnd/log/top_db'],
    ['whisper with ln', { ...WHISPER, log: { kind: 'ln' } }, '/frontEnd/log/kind: expected "log10" with whisper'],
    ['a typo', { ...WHISPER, nFft: 400 } as unknown as FrontEnd, '/frontEnd/nFft: expected no such field'],
    ['sample rate 0', { kind: 'waveform', sampleRate: 0 }, '/frontEnd/sampleRate: expected a positive integer'],
    ['scale', { kind: 'waveform', sampleRate: 16000, scale: 'int8' } as unknown as FrontEnd, '/frontEnd/scale'],
    ['fbank option', { ...AST, options: { num_mel_bins: 2 } }, '/frontEnd/options/num_mel_bins: got 2'],
    [
      'fbank sample_frequency',
      { ...AST, options: { sample_frequency: 8000 } },
      "/frontEnd/options/sample_frequency: expected the front-end's sampleRate (16000), found 8000",
    ],
    ['ast std 0', { ...AST, astNormalize: { mean: 0, std: 0 } }, '/frontEnd/astNormalize/std'],
    ['onnx layout', { kind: 'onnx', model: 'x.onnx', sampleRate: 16000, layout: 'B,F' }, '/frontEnd/layout'],
  ];
  for (const [label, frontEnd, message] of cases) {
    it(`refuses ${label}`, async () => {
      const err = await genrepRejection(createFrontEnd(frontEnd, FIXTURES));
      expect(err.code).toBe('BAD_INPUT');
      expect(err.message).toContain(message);
      expect(err.data.field).toMatch(/^\/frontEnd/);
    });
  }

  it('refuses a clip too short for reflect padding, at features time', async () => {
    const runner = await createFrontEnd(WHISPER, '.');
    const err = await genrepRejection(runner.features(new Float32Array(150)));
    expect(err.message).toContain('reflect padding of 200');
  });
});

describe('onnx front-end', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-frontend-'));
    // [1, n] → [1, 1, n / 4, 4]: frame t holds samples 4t .. 4t + 3, so the expected features are the clip itself.
    const g = new GraphBuilder('frames');
    const x = g.input('audio', TensorDataType.FLOAT, [1, 'n']);
    const shape = g.int64Tensor('shape', [1, 1, -1, 4]);
    g.op('Reshape', [x, shape], {}, { outputs: ['mel'] });
    g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(0) }, { outputs: ['sum'] });
    g.output('mel', TensorDataType.FLOAT, [1, 1, 't', 4]);
    g.output('sum', TensorDataType.FLOAT, [1]);
    await fsp.writeFile(
      path.join(dir, 'frames.onnx'),
      g.encode({ opsets: [{ domain: '', version: 13 }], producerVersion: 'test' }),
    );
  });
  afterAll(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const base = { kind: 'onnx', model: 'frames.onnx', sampleRate: 16000, output: 'mel', layout: 'B,1,T,F' } as const;

  it('reads the output through its layout as [T × F]', async () => {
    const runner = await createFrontEnd(base, dir, { threads: 1 });
    expect(runner.bins).toBe(4);
    const clip = Float32Array.from({ length: 800 }, (_, i) => i / 800);
    const out = await runner.features(runner.toModelRate(clip));
    expect([out.frames, out.bins]).toEqual([200, 4]);
    expect(out.data).toEqual(clip);
    await runner.dispose();
  });

  it('applies affine (x + offset) / divide to the output, and checks it', async () => {
    const runner = await createFrontEnd({ ...base, affine: { offset: 20, divide: 10 } }, dir, { threads: 1 });
    const clip = Float32Array.from({ length: 800 }, (_, i) => i / 800);
    const out = await runner.features(runner.toModelRate(clip));
    expect(out.data).toEqual(clip.map((v) => (v + 20) / 10));
    await runner.dispose();
    const zero = await genrepRejection(createFrontEnd({ ...base, affine: { offset: 20, divide: 0 } }, dir));
    expect(zero.message).toBe('/frontEnd/affine/divide: expected a non-zero number, found 0');
    const extra = await genrepRejection(
      createFrontEnd({ ...base, affine: { offset: 1, divide: 2, scale: 3 } } as unknown as FrontEnd, dir),
    );
    expect(extra.data.field).toBe('/frontEnd/affine/scale');
  });

  it('names a missing output, an ambiguous one and a rank mismatch', async () => {
    const missing = await genrepRejection(createFrontEnd({ ...base, output: 'logmel' }, dir));
    expect(missing.message).toBe('/frontEnd/output: expected one of the model\'s outputs (mel, sum), found "logmel"');
    const { output: _, ...noOutput } = base;
    const ambiguous = await genrepRejection(createFrontEnd(noOutput, dir));
    expect(ambiguous.message).toContain('has 2 outputs (mel, sum); say which in /frontEnd/output');
    const rank = await genrepRejection(createFrontEnd({ ...base, layout: 'B,T,F' }, dir));
    expect(rank.message).toContain("/frontEnd/layout: expected 4 axes, the rank of output 'mel'");
    const input = await genrepRejection(createFrontEnd({ ...base, input: 'wave' }, dir));
    expect(input.data.field).toBe('/frontEnd/input');
  });
});
