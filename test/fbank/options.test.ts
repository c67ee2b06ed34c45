import { describe, expect, it } from 'vitest';
import { type FbankOptions, fbank, FbankComputer, fbankComputer } from '../../worker/src/fbank';

/** Option sets the WebAssembly kernel covers (power-of-two FFT, no dither, no energy column); the rest run in JS. */
function kernelApplies(options: FbankOptions): boolean {
  return options.round_to_power_of_two !== false && !options.use_energy;
}
import { GoldenSet } from '../helpers/golden';

/**
 * Every option set in test/fixtures/fbank (written by test/fbank/make_torchaudio_fixtures.py from torchaudio's
 * kaldi.fbank in float64) on one synthetic int16-scale clip with tones, noise, DC offset and a step.
 */
const fixtures = new GoldenSet('fbank');
const cases = fixtures.manifest['cases'] as Record<string, FbankOptions>;
const clip = fixtures.f32('clip').data;

/** Worst error in units of the tolerance: absolute for log outputs, relative to the value for linear ones. */
function worstError(got: Float32Array, want: Float32Array, relative: boolean): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, relative ? d / Math.max(Math.abs(want[i]!), 1e-30) : d);
  }
  return worst;
}

describe('fbank options against torchaudio (float64 reference)', () => {
  it('covers the option sets the fixture script defines', () => {
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(25);
  });

  for (const [name, options] of Object.entries(cases)) {
    for (const backend of ['js', 'auto'] as const) {
      it(`${name} ${JSON.stringify(options)} [${backend}]`, () => {
        const want = fixtures.f32(`out/${name}`);
        const computer = new FbankComputer(options, { backend });
        const got = computer.compute(clip);
        expect(computer.backendInUse).toBe(backend === 'auto' && kernelApplies(options) ? 'wasm' : 'js');
        expect([got.frames, got.bins]).toEqual(want.shape);
        const linear = options.use_log_fbank === false;
        expect(worstError(got.data, want.data, linear)).toBeLessThanOrEqual(1e-4);
      });
    }
  }
});

describe('the golden sine over its whole dynamic range', () => {
  it('matches torchaudio in float64 to 1e-4, bins 35 nats under the peak included', () => {
    const sine = new GoldenSet('golden-beats-tiny').f32('fbank_in/sine440_3s').data.subarray(0, 16000);
    const want = fixtures.f32('sine440_1s_float64');
    const beatsArgs = cases['beats_args'];
    if (!beatsArgs) throw new Error('the fbank fixture has no beats_args case');
    const got = fbank(
      sine.map((x) => x * 32768),
      beatsArgs,
    );
    expect([got.frames, got.bins]).toEqual(want.shape);
    expect(worstError(got.data, want.data, false)).toBeLessThanOrEqual(1e-4);
    const js = new FbankComputer(beatsArgs, { backend: 'js' }).compute(sine.map((x) => x * 32768));
    expect(worstError(js.data, want.data, false)).toBeLessThanOrEqual(1e-4);
    let range = 0;
    for (let i = 0; i < got.frames; i++) {
      const row = got.data.subarray(i * got.bins, (i + 1) * got.bins);
      range = Math.max(range, Math.max(...row) - Math.min(...row));
    }
    expect(range).toBeGreaterThan(30);
  });
});

describe('frame geometry', () => {
  it('counts frames as torchaudio: snip_edges true vs false', () => {
    const snip = new FbankComputer();
    const reflect = new FbankComputer({ snip_edges: false });
    expect(snip.numFrames(160000)).toBe(998);
    expect(snip.numFrames(400)).toBe(1);
    expect(snip.numFrames(559)).toBe(1);
    expect(snip.numFrames(560)).toBe(2);
    expect(reflect.numFrames(160000)).toBe(1000);
    expect(reflect.numFrames(399)).toBe(2); // (399 + 80) // 160
    expect(reflect.numFrames(400)).toBe(3);
  });

  it('snip_edges=false reflects the clip with the edge sample repeated', () => {
    // Frame 0 with window 400, shift 160 starts 120 samples before the clip: x[119], …, x[0], x[0], x[1], …
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 1000 + i);
    const reflected = new Float32Array(400);
    for (let j = 0; j < 120; j++) reflected[j] = x[119 - j]!;
    reflected.set(x.subarray(0, 280), 120);
    for (const backend of ['js', 'wasm'] as const) {
      const first = new FbankComputer({ snip_edges: false, use_log_fbank: false }, { backend })
        .compute(x)
        .data.subarray(0, 23);
      const direct = new FbankComputer({ use_log_fbank: false }, { backend }).compute(reflected).data;
      expect(worstError(first, direct, true)).toBeLessThan(1e-6);
    }
  });

  it('round_to_power_of_two pads the FFT to 512 for 400-sample frames, or not', () => {
    expect(new FbankComputer().geometry.padded_window_size).toBe(512);
    expect(new FbankComputer({ round_to_power_of_two: false }).geometry.padded_window_size).toBe(400);
    expect(new FbankComputer({ use_energy: true }).bins).toBe(24);
  });

  it('min_duration longer than the clip gives zero frames', () => {
    const fb = fbank(clip, { min_duration: 1.0 });
    expect(fb.frames).toBe(0);
    expect(fb.data.length).toBe(0);
  });
});

describe('backends and output transform', () => {
  it('the wasm kernel and the JS path agree to float32 rounding on long clips, odd frame counts included', () => {
    const long = Float32Array.from(
      { length: 16000 * 3 + 123 },
      (_, i) => 8000 * Math.sin(i * 0.05) + 3000 * Math.sin(i * i * 1e-5) + ((i * 7919) % 113) - 56,
    );
    for (const options of [
      { num_mel_bins: 128 },
      { window_type: 'hamming', preemphasis_coefficient: 0, use_power: false },
      { frame_length: 64, frame_shift: 20, num_mel_bins: 40 },
    ] as FbankOptions[]) {
      const js = new FbankComputer(options, { backend: 'js' });
      const wasm = new FbankComputer(options, { backend: 'wasm' });
      const parities = new Set<number>();
      // Two lengths one frame shift apart: one has an odd frame count, whose last pair runs half empty.
      for (const length of [long.length, long.length - js.geometry.window_shift]) {
        const a = js.compute(long.subarray(0, length));
        const b = wasm.compute(long.subarray(0, length));
        parities.add(a.frames % 2);
        expect(b.frames).toBe(a.frames);
        expect(worstError(b.data, a.data, false)).toBeLessThan(2e-5);
      }
      expect(parities.size).toBe(2);
    }
  });

  it("the kernel's own logarithm agrees with Math.log over 40 nats", () => {
    // Loud, quiet and silent stretches: filter energies from the epsilon floor up to ~1e13.
    const x = Float32Array.from(
      { length: 16000 },
      (_, i) => (i < 6000 ? 20000 : i < 12000 ? 0.01 : 0) * Math.sin(i * 0.3 + ((i * i) % 7)),
    );
    const linear = new FbankComputer({ use_log_fbank: false, num_mel_bins: 80 }, { backend: 'wasm' }).compute(x).data;
    const logs = new FbankComputer({ num_mel_bins: 80 }, { backend: 'wasm' }).compute(x).data;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < logs.length; i++) {
      const want = Math.log(Math.max(linear[i]!, 1.1920928955078125e-7));
      lo = Math.min(lo, want);
      hi = Math.max(hi, want);
      expect(Math.abs(logs[i]! - want)).toBeLessThan(2e-6);
    }
    expect(hi - lo).toBeGreaterThan(40);
  });

  it('output_scale / output_offset apply last, after subtract_mean, on both backends', () => {
    for (const backend of ['js', 'wasm'] as const) {
      for (const subtract_mean of [false, true]) {
        const plain = new FbankComputer({ subtract_mean }, { backend }).compute(clip).data;
        const mapped = new FbankComputer({ subtract_mean }, { backend, output_scale: 0.25, output_offset: -3 }).compute(
          clip,
        ).data;
        expect(
          worstError(
            mapped,
            plain.map((v) => v * 0.25 - 3),
            false,
          ),
        ).toBeLessThan(1e-5);
      }
    }
  });

  it('input_scale equals scaling the waveform first, on both backends and every frame path', () => {
    const unit = clip.map((x) => x / 32768);
    for (const backend of ['js', 'wasm'] as const) {
      for (const options of [{}, { snip_edges: false }, { remove_dc_offset: false }] as FbankOptions[]) {
        const want = new FbankComputer(options, { backend }).compute(clip).data;
        const got = new FbankComputer(options, { backend, input_scale: 32768 }).compute(unit).data;
        expect(worstError(got, want, false)).toBeLessThan(1e-5);
      }
    }
    const energy = { use_energy: true, dither: 0.5 };
    expect(
      worstError(
        new FbankComputer(energy, { input_scale: 32768 }).compute(unit).data,
        new FbankComputer(energy).compute(clip).data,
        false,
      ),
    ).toBeLessThan(1e-3); // same dither noise stream, so only rounding differs
  });

  it('writes into a caller-owned buffer when given one, and refuses one too small', () => {
    for (const backend of ['js', 'wasm'] as const) {
      const computer = new FbankComputer({}, { backend });
      const fresh = computer.compute(clip);
      const buffer = new Float32Array(fresh.data.length + 10).fill(7);
      const reused = computer.compute(clip, buffer);
      expect(reused.data.buffer).toBe(buffer.buffer);
      expect(reused.data).toEqual(fresh.data);
      expect(buffer[fresh.data.length]).toBe(7);
      expect(() => computer.compute(clip, new Float32Array(10))).toThrow(/output buffer holds 10 values/);
    }
  });

  it('a computer gives identical results on reuse, and clips of other lengths in between do not disturb it', () => {
    const computer = new FbankComputer({ num_mel_bins: 64 });
    const first = computer.compute(clip).data;
    computer.compute(new Float32Array(48000).fill(5));
    computer.compute(clip.subarray(0, 500));
    expect(computer.compute(clip).data).toEqual(first);
  });
});

describe('fbank() reuses one FbankComputer per option set', () => {
  it('returns the same computer for equal option sets, defaults spelled out or not', () => {
    const a = fbankComputer({ num_mel_bins: 40 });
    expect(fbankComputer({ num_mel_bins: 40, window_type: 'povey', frame_length: 25 })).toBe(a);
    expect(fbankComputer({ num_mel_bins: 41 })).not.toBe(a);
    expect(fbank(clip, { num_mel_bins: 40 }).data).toEqual(a.compute(clip).data);
  });
});
