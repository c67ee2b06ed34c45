import { describe, expect, it } from 'vitest';
import { beatsFbank, fbank, type FbankOptions, FbankComputer } from '../../worker/src/fbank';
import { genrepErrorOf as thrown } from '../helpers/errors';

describe('fbank input errors', () => {
  it('refuses a clip shorter than one frame, saying how long each is', () => {
    const err = thrown(() => fbank(new Float32Array(399)));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toBe('clip has 399 samples, shorter than one 25 ms frame (400 samples)');
    expect(err.data.field).toBe('waveform');
    // snip_edges=false frames every shift, but torchaudio still refuses a clip shorter than one window
    expect(thrown(() => fbank(new Float32Array(10), { snip_edges: false, frame_length: 10 })).message).toBe(
      'clip has 10 samples, shorter than one 10 ms frame (160 samples)',
    );
    expect(fbank(new Float32Array(400)).frames).toBe(1);
  });

  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    it(`refuses a ${bad} sample and says which one, on every path`, () => {
      const x = new Float32Array(1000);
      x[777] = bad;
      for (const options of [
        {},
        { dither: 1 },
        { snip_edges: false },
        { round_to_power_of_two: false },
      ] as FbankOptions[]) {
        const err = thrown(() => fbank(x, options));
        expect(err.code).toBe('BAD_INPUT');
        expect(err.message).toContain(`sample 777 is ${bad}`);
      }
      expect(thrown(() => beatsFbank(x)).message).toContain('sample 777');
    });
  }
});

describe('fbank option errors', () => {
  const cases: [string, FbankOptions, string][] = [
    ['vtln_warp other than 1', { vtln_warp: 0.9 }, 'UNSUPPORTED'],
    ['a camelCase name', { numMelBins: 128 } as unknown as FbankOptions, 'BAD_INPUT'],
    ['an unknown window', { window_type: 'kaiser' } as unknown as FbankOptions, 'BAD_INPUT'],
    ['a string for a number', { num_mel_bins: '128' } as unknown as FbankOptions, 'BAD_INPUT'],
    ['3 mel bins', { num_mel_bins: 3 }, 'BAD_INPUT'],
    ['a fractional bin count', { num_mel_bins: 40.5 }, 'BAD_INPUT'],
    ['pre-emphasis above 1', { preemphasis_coefficient: 1.5 }, 'BAD_INPUT'],
    ['an odd FFT length', { round_to_power_of_two: false, frame_length: 25.0625 }, 'BAD_INPUT'],
    ['a zero frame shift', { frame_shift: 0.01 }, 'BAD_INPUT'],
    ['high_freq above Nyquist', { high_freq: 9000 }, 'BAD_INPUT'],
    ['high_freq offset below low_freq', { high_freq: -7990 }, 'BAD_INPUT'],
    ['low_freq at Nyquist', { low_freq: 8000 }, 'BAD_INPUT'],
    ['a NaN option', { dither: Number.NaN }, 'BAD_INPUT'],
    ['negative dither', { dither: -1 }, 'BAD_INPUT'],
    ['a zero sample rate', { sample_frequency: 0 }, 'BAD_INPUT'],
  ];
  for (const [what, options, code] of cases) {
    it(`refuses ${what}, naming the option`, () => {
      const err = thrown(() => new FbankComputer(options));
      expect(err.code).toBe(code);
      expect(err.message).toContain(
        Object.keys(options)[0] === 'round_to_power_of_two' ? 'frame_length' : err.data.field,
      );
      expect(err.data.field).toBeTruthy();
      expect(err.data.expected).toBeTruthy();
    });
  }

  it('names the torchaudio spelling when it sees an unknown option', () => {
    expect(thrown(() => new FbankComputer({ numMelBins: 128 } as unknown as FbankOptions)).data.expected).toContain(
      'num_mel_bins',
    );
  });

  it('refuses to run the wasm backend where it does not apply instead of computing something else', () => {
    for (const options of [{ dither: 1 }, { use_energy: true }, { round_to_power_of_two: false }] as FbankOptions[]) {
      const computer = new FbankComputer(options, { backend: 'wasm' });
      expect(thrown(() => computer.compute(new Float32Array(1000))).code).toBe('UNSUPPORTED');
    }
  });
});
