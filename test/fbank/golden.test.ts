import { describe, expect, it } from 'vitest';
import {
  BEATS_FBANK_OPTIONS,
  BEATS_FBANK_STD,
  BEATS_SAMPLES,
  beatsFbank,
  fbank,
  FbankComputer,
} from '../../worker/src/fbank';
import { GoldenSet, shape3 } from '../helpers/golden';

const golden = new GoldenSet('golden-beats-tiny');

/**
 * The golden outputs come from torchaudio in float32. Where a mel bin lies far below its frame's peak (the 3 s
 * pure sine: up to 40 nats), float32 FFT round-off is all the reference holds there — torchaudio itself in float64
 * moves those bins by up to 0.37. So bins more than RELIABLE_NATS below their frame's peak are left out here;
 * options.test.ts checks the sine over its whole range against torchaudio run in float64.
 */
const RELIABLE_NATS = 20;

/** Max abs error over the entries at most `reliableRange` below their row's maximum in the reference. */
function maxAbsDiff(
  got: Float32Array,
  want: Float32Array,
  bins: number,
  reliableRange = Infinity,
): { error: number; compared: number } {
  expect(got.length).toBe(want.length);
  let error = 0;
  let compared = 0;
  for (let row = 0; row < want.length; row += bins) {
    let peak = -Infinity;
    for (let b = 0; b < bins; b++) peak = Math.max(peak, want[row + b]!);
    for (let b = 0; b < bins; b++) {
      if (peak - want[row + b]! > reliableRange) continue;
      error = Math.max(error, Math.abs(got[row + b]! - want[row + b]!));
      compared++;
    }
  }
  return { error, compared };
}

describe('fbank against torchaudio.compliance.kaldi.fbank (golden-beats-tiny)', () => {
  const cases = golden.names('fbank_in/').map((name) => name.slice('fbank_in/'.length));

  it('has the six documented cases', () => {
    expect(cases.sort()).toEqual(['noise_1s', 'real0', 'real1', 'short_1000', 'silence_1s', 'sine440_3s']);
  });

  for (const name of cases) {
    for (const backend of ['js', 'wasm'] as const) {
      it(`${name} [${backend}]: same shape, max abs error <= 1e-3`, () => {
        const input = golden.f32(`fbank_in/${name}`);
        const expected = golden.f32(`fbank_out/${name}`);
        const fb = new FbankComputer(BEATS_FBANK_OPTIONS, { backend }).compute(input.data.map((x) => x * 32768));
        expect([fb.frames, fb.bins]).toEqual(expected.shape);
        const { error, compared } = maxAbsDiff(
          fb.data,
          expected.data,
          fb.bins,
          name === 'sine440_3s' ? RELIABLE_NATS : Infinity,
        );
        expect(error).toBeLessThanOrEqual(1e-3);
        expect(compared).toBeGreaterThan(expected.data.length * (name === 'sine440_3s' ? 0.4 : 1) - 1);
      });
    }
  }

  it('real0 (12 s) gives 1198 frames and short_1000 gives 4', () => {
    expect(fbank(golden.f32('fbank_in/real0').data, BEATS_FBANK_OPTIONS).frames).toBe(1198);
    expect(fbank(golden.f32('fbank_in/short_1000').data, BEATS_FBANK_OPTIONS).frames).toBe(4);
  });

  it('silence sits on the log floor log(float32 eps)', () => {
    const fb = fbank(golden.f32('fbank_in/silence_1s').data, BEATS_FBANK_OPTIONS);
    expect(fb.frames).toBe(98);
    for (const v of fb.data) expect(v).toBeCloseTo(Math.log(1.1920928955078125e-7), 5);
  });
});

describe('beatsFbank against BEATs.preprocess (golden-beats-tiny beats/)', () => {
  const wave = golden.f32('beats/input_wave');
  const expected = golden.f32('beats/fbank_norm');
  const [clips, frames, bins] = shape3(expected);
  // Clip 2 is the 3 s sine, zero-padded: the same float32 round-off floor as above, in normalised units.
  const reliable = (clip: number): number => (clip === 2 ? RELIABLE_NATS / (2 * BEATS_FBANK_STD) : Infinity);

  for (let c = 0; c < clips; c++) {
    it(`clip ${c}: [998, 128], max abs error <= 1e-4`, () => {
      const fb = beatsFbank(wave.data.subarray(c * BEATS_SAMPLES, (c + 1) * BEATS_SAMPLES));
      expect([fb.frames, fb.bins]).toEqual([frames, bins]);
      const want = expected.data.subarray(c * frames * bins, (c + 1) * frames * bins);
      expect(maxAbsDiff(fb.data, want, bins, reliable(c)).error).toBeLessThanOrEqual(1e-4);
    });
  }

  it('crops long clips to their first 160000 samples and zero-pads short ones at the end', () => {
    // Clip 0 is real0 (12 s) cropped to 10 s; clip 2 is the 3 s sine zero-padded.
    const long = beatsFbank(golden.f32('fbank_in/real0').data);
    expect(maxAbsDiff(long.data, expected.data.subarray(0, frames * bins), bins).error).toBeLessThanOrEqual(1e-4);
    const short = beatsFbank(golden.f32('fbank_in/sine440_3s').data);
    const want = expected.data.subarray(2 * frames * bins, 3 * frames * bins);
    expect(maxAbsDiff(short.data, want, bins, reliable(2)).error).toBeLessThanOrEqual(1e-4);
    // Frames entirely in the zero padding are the log floor, normalised.
    const floor = (Math.log(1.1920928955078125e-7) - 15.41663) / (2 * 6.55582);
    expect(short.data[(frames - 1) * bins]).toBeCloseTo(floor, 5);
  });
});
