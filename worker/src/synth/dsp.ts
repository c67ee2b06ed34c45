import { at } from '../util/at';
import type { Random } from './random';

/**
 * Signal building blocks for the synthetic machines. Everything adds into a caller-owned Float32Array, so a clip is
 * the sum of its physical sources and nothing is allocated per sample.
 */

/** Samples per block over which a rotating machine's speed is held constant (2 ms at 16 kHz). */
export const SPEED_BLOCK = 32;

/** A sinusoid locked to the shaft: frequency = order × shaft rate, so it follows every speed change. */
export interface ShaftPartial {
  order: number;
  amp: number;
  phase: number;
}

/**
 * Shaft rate (Hz) per SPEED_BLOCK-sample block: the nominal rate with slow wander (a few incommensurate sinusoids of
 * 0.05–0.6 Hz, as a drive's speed control hunts), so harmonics smear slightly like a real machine's.
 */
export function speedTrack(
  rng: Random,
  samples: number,
  sampleRate: number,
  rateHz: number,
  wanderDepth: number,
): Float64Array {
  const blocks = Math.ceil(samples / SPEED_BLOCK);
  const track = new Float64Array(blocks);
  const components = [0, 1, 2].map(() => ({ hz: rng.range(0.05, 0.6), phase: rng.phase(), weight: rng.range(0.5, 1) }));
  const norm = components.reduce((s, c) => s + c.weight, 0);
  for (let b = 0; b < blocks; b++) {
    const t = ((b + 0.5) * SPEED_BLOCK) / sampleRate;
    let w = 0;
    for (const c of components) w += c.weight * Math.sin(2 * Math.PI * c.hz * t + c.phase);
    track[b] = rateHz * (1 + (wanderDepth * w) / norm);
  }
  return track;
}

/**
 * Adds shaft-locked partials. Within a block each partial is a complex rotator (4 multiplies a sample); the phase
 * is carried exactly across blocks. Partials at or above 0.98 × Nyquist are left out (a real microphone chain
 * low-passes them; here they would alias).
 */
export function addShaftPartials(
  out: Float32Array,
  sampleRate: number,
  track: Float64Array,
  partials: readonly ShaftPartial[],
): void {
  const n = out.length;
  const nyquist = 0.49 * sampleRate;
  // In bounds: b ≤ (n − 1) / SPEED_BLOCK < ceil(n / SPEED_BLOCK), the speed track's length for n samples; i < n.
  for (const p of partials) {
    if (p.amp === 0) continue;
    let phase = p.phase;
    for (let b = 0, start = 0; start < n; b++, start += SPEED_BLOCK) {
      const hz = p.order * track[b]!;
      const w = (2 * Math.PI * hz) / sampleRate;
      const end = Math.min(n, start + SPEED_BLOCK);
      if (hz > 0 && hz < nyquist) {
        let c = Math.cos(phase);
        let s = Math.sin(phase);
        const cw = Math.cos(w);
        const sw = Math.sin(w);
        const a = p.amp;
        for (let i = start; i < end; i++) {
          out[i]! += a * s;
          const c2 = c * cw - s * sw;
          s = s * cw + c * sw;
          c = c2;
        }
      }
      phase = (phase + w * (end - start)) % (2 * Math.PI);
    }
  }
}

/** A tone at a fixed frequency (mains hum, a neighbouring machine), independent of the shaft. */
export interface FixedTone {
  hz: number;
  amp: number;
  phase: number;
}

export function addFixedTones(out: Float32Array, sampleRate: number, tones: readonly FixedTone[]): void {
  const track = new Float64Array(Math.ceil(out.length / SPEED_BLOCK)).fill(1);
  addShaftPartials(
    out,
    sampleRate,
    track,
    tones.map((t) => ({ order: t.hz, amp: t.amp, phase: t.phase })),
  );
}

/**
 * Adds `input` filtered by a two-pole resonator (RBJ band-pass, 0 dB peak) at `hz` with quality `q`, times `gain`:
 * a structural mode of the machine housing, rung by whatever excites it.
 */
export function addResonance(
  out: Float32Array,
  input: Float32Array,
  sampleRate: number,
  hz: number,
  q: number,
  gain: number,
): void {
  if (hz >= 0.49 * sampleRate || gain === 0) return;
  const w0 = (2 * Math.PI * hz) / sampleRate;
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  const b0 = (alpha / a0) * gain;
  const b2 = -b0;
  const a1 = (-2 * Math.cos(w0)) / a0;
  const a2 = (1 - alpha) / a0;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  // In bounds: i < input.length = out.length (the clip's samples).
  for (let i = 0; i < input.length; i++) {
    const x = input[i]!;
    const y = b0 * x + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    out[i]! += y;
  }
}

/** One-pole low-pass in place (cutoff in Hz): a gentle −6 dB/octave roll-off. */
export function lowPass(signal: Float32Array, sampleRate: number, cutoffHz: number): Float32Array {
  const a = Math.exp((-2 * Math.PI * cutoffHz) / sampleRate);
  let y = 0;
  // In bounds: i < signal.length.
  for (let i = 0; i < signal.length; i++) {
    y = (1 - a) * signal[i]! + a * y;
    signal[i] = y;
  }
  return signal;
}

/** One-pole high-pass in place (removes rumble below `cutoffHz`). */
export function highPass(signal: Float32Array, sampleRate: number, cutoffHz: number): Float32Array {
  const a = Math.exp((-2 * Math.PI * cutoffHz) / sampleRate);
  let y = 0;
  let xPrev = 0;
  // In bounds: i < signal.length.
  for (let i = 0; i < signal.length; i++) {
    const x = signal[i]!;
    y = a * (y + x - xPrev);
    xPrev = x;
    signal[i] = y;
  }
  return signal;
}

/**
 * Pink (−3 dB/octave) noise of roughly unit variance over the audio band: Paul Kellet's economy filter on white
 * Gaussian noise. Factory background is closer to pink than to white.
 */
export function pinkNoise(rng: Random, samples: number): Float32Array {
  const out = new Float32Array(samples);
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  for (let i = 0; i < samples; i++) {
    const white = rng.gaussian();
    b0 = 0.99765 * b0 + white * 0.099046;
    b1 = 0.963 * b1 + white * 0.2965164;
    b2 = 0.57 * b2 + white * 1.0526913;
    out[i] = (b0 + b1 + b2 + white * 0.1848) * 0.25;
  }
  return out;
}

/** Brown (−6 dB/octave above `cornerHz`) noise, unit-ish variance: distant heavy machinery, ventilation rumble. */
export function brownNoise(rng: Random, samples: number, sampleRate: number, cornerHz = 40): Float32Array {
  const out = rng.fillGaussian(new Float32Array(samples), 1);
  lowPass(out, sampleRate, cornerHz);
  const gain = Math.sqrt(sampleRate / (Math.PI * cornerHz)); // restores unit variance after the one-pole
  for (let i = 0; i < samples; i++) out[i]! *= gain; // i < samples = out.length
  return out;
}

/**
 * Adds unit impulses (a fractional position is split over two samples) at times `times` (s) with amplitudes `amps`:
 * the excitation of a bearing defect or a broken tooth striking, to be rung through resonances.
 */
export function addImpulses(
  out: Float32Array,
  sampleRate: number,
  times: readonly number[],
  amps: readonly number[],
): void {
  times.forEach((time, k) => {
    const amp = at(amps, k, 'impulse amplitudes');
    const pos = time * sampleRate;
    const i = Math.floor(pos);
    const frac = pos - i;
    // In bounds: each index is tested against out.length first.
    if (i >= 0 && i < out.length) out[i]! += amp * (1 - frac);
    if (i + 1 >= 0 && i + 1 < out.length) out[i + 1]! += amp * frac;
  });
}

/**
 * Times of a repetitive fault at `order` events per shaft revolution, following the speed track, with a small
 * random slip per event (rolling elements skid, so bearing impulses are never exactly periodic).
 */
export function faultTimes(
  rng: Random,
  track: Float64Array,
  sampleRate: number,
  order: number,
  slip: number,
  durationSec: number,
): number[] {
  const times: number[] = [];
  // In bounds: a speed track has at least one block, and b is clamped to its last.
  let t = rng.uniform() / (order * track[0]!);
  while (t < durationSec) {
    times.push(t);
    const b = Math.min(track.length - 1, Math.floor((t * sampleRate) / SPEED_BLOCK));
    t += (1 + slip * rng.gaussian()) / (order * track[b]!);
  }
  return times;
}
