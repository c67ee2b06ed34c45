import { at } from '../../util/at';
import { type ShaftPartial, addImpulses, addResonance, faultTimes, speedTrack } from '../dsp';
import type { RenderContext } from '../model';

/** A structural mode of a housing: its frequency, quality and how loudly the microphone hears it. */
export interface Mode {
  hz: number;
  q: number;
  gain: number;
}

/**
 * The shaft rate this clip runs at: the condition's nominal speed with a per-clip deviation (the drive never
 * settles at exactly the same speed twice) and slow wander within the clip.
 */
export function shaftTrack(ctx: RenderContext, rpm: number, jitter: number, wanderDepth = 0.003): Float64Array {
  const rate = (rpm / 60) * (1 + ctx.unsteadiness * jitter * ctx.rng.gaussian());
  return speedTrack(ctx.rng, ctx.samples, ctx.sampleRate, rate, ctx.unsteadiness * wanderDepth);
}

/** Partials at `orders` with nominal amplitudes, each varied per clip by `sigmaDb` and given a random phase. */
export function partials(
  ctx: RenderContext,
  orders: readonly number[],
  amps: readonly number[],
  sigmaDb = 0.25,
): ShaftPartial[] {
  return orders.map((order, k) => ({
    order,
    amp: at(amps, k, 'partial amplitudes') * ctx.rng.gainDb(sigmaDb),
    phase: ctx.rng.phase(),
  }));
}

/** amps[index] += extra, for a partial the list already holds. */
export function boost(amps: number[], index: number, extra: number): void {
  amps[index] = at(amps, index, 'partial amplitudes') + extra;
}

/**
 * Broadband mechanical noise (friction, turbulence, rolling contact) of RMS `level` heard through the housing's
 * modes, plus a little of it directly. Mode gains vary per clip by 1 dB (mounting, temperature).
 */
export function structureBorneNoise(ctx: RenderContext, level: number, modes: readonly Mode[], direct: number): void {
  const { rng, samples, sampleRate, out } = ctx;
  const white = rng.fillGaussian(new Float32Array(samples), level);
  for (const m of modes)
    addResonance(out, white, sampleRate, m.hz * (1 + 0.005 * rng.gaussian()), m.q, m.gain * rng.gainDb(0.25));
  // In bounds: i < samples, the length of out and white.
  if (direct > 0) for (let i = 0; i < samples; i++) out[i]! += direct * white[i]!;
}

/**
 * A repetitive fault: impulses at `order` per revolution (with slip), amplitude `amp` shaped by `modulation` (shaft
 * angle in cycles → factor, for a defect that passes through the load zone), rung through `modes`.
 */
export function faultImpulses(
  ctx: RenderContext,
  track: Float64Array,
  order: number,
  amp: number,
  modes: readonly Mode[],
  modulation?: (time: number) => number,
): void {
  const { rng, sampleRate, samples, durationSec, out } = ctx;
  const times = faultTimes(rng, track, sampleRate, order, 0.01, durationSec);
  const amps = times.map((t) => amp * (1 + 0.25 * rng.gaussian()) * (modulation ? modulation(t) : 1));
  const excitation = new Float32Array(samples);
  addImpulses(excitation, sampleRate, times, amps);
  for (const m of modes) addResonance(out, excitation, sampleRate, m.hz, m.q, m.gain);
}

/** Cosine load-zone modulation at `order` × the shaft rate, depth in [0, 1]. */
export function loadZone(track: Float64Array, order: number, depth: number, phase: number): (t: number) => number {
  const rate = at(track, Math.floor(track.length / 2), 'speed track');
  return (t) => 1 - depth + depth * 0.5 * (1 + Math.cos(2 * Math.PI * order * rate * t + phase));
}
