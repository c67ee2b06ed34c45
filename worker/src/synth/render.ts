import { addBackground } from './background';
import { type LocalisedFault, addLocalisedFault } from './localised';
import type { Anomaly, Condition, MachineModel } from './model';
import { Random } from './random';

/** Scale from the machines' units (nominal clip RMS ≈ 1) to the file: leaves ~20 dB headroom below full scale. */
const OUTPUT_SCALE = 0.05;
/** Per-clip spread of the load around the condition's nominal value. */
const LOAD_JITTER = 0.08;
/** Per-clip microphone/recorder gain spread (dB). */
const GAIN_JITTER_DB = 0.5;

export interface ClipRequest {
  model: MachineModel;
  condition: Condition;
  anomaly: Anomaly | undefined;
  /** Seeds this clip's random stream; the same key always gives the same samples. */
  key: string;
  durationSec: number;
  sampleRate: number;
  /** A time-localised event added after the hall's background (`--faults localised`); absent: none. */
  event?: LocalisedFault | undefined;
}

/**
 * One clip: the machine, then the hall's background, then the microphone's gain (±1.5 dB per clip: each recording
 * session sets it a little differently). Samples in [-1, 1); the rare peak beyond is clipped as a recorder would.
 */
export function renderClip(request: ClipRequest): Float32Array {
  const { model, condition, anomaly, key, durationSec, sampleRate } = request;
  const samples = Math.round(durationSec * sampleRate);
  const rng = new Random(key);
  const unsteadiness = condition.unsteadiness ?? 1;
  const ctx = { rng, sampleRate, samples, durationSec, unsteadiness, out: new Float32Array(samples) };
  // The load is never exactly the nominal one: process demand drifts between recordings.
  const load = Math.min(1.1, Math.max(0, condition.load + unsteadiness * LOAD_JITTER * rng.gaussian()));
  const scaled = anomaly && { kind: anomaly.kind, severity: anomaly.severity * model.faultScale };
  model.render(ctx, { ...condition, load }, scaled);
  addBackground(ctx, condition.background, condition.backgroundGainDb ?? 0);
  // Its own random stream (from the key), so the machine and the hall are the same samples as without it.
  if (request.event) addLocalisedFault(ctx.out, sampleRate, request.event, key);
  if (condition.reflections) addReflections(ctx.out, rng, sampleRate, condition.reflections);
  const gain = OUTPUT_SCALE * rng.gainDb(GAIN_JITTER_DB);
  const out = ctx.out;
  // In bounds: i < samples = out.length.
  for (let i = 0; i < samples; i++) {
    const y = out[i]! * gain;
    out[i] = y > 0.999 ? 0.999 : y < -0.999 ? -0.999 : y;
  }
  return out;
}

/** y[n] = x[n] + Σ g_k·x[n − d_k]: a direct path and a few echoes, drawn per clip. */
function addReflections(
  signal: Float32Array,
  rng: Random,
  sampleRate: number,
  spec: NonNullable<Condition['reflections']>,
): void {
  const echoes = Array.from({ length: spec.count }, () => ({
    delay: Math.max(1, Math.round(rng.range(0.3, spec.maxDelayMs) * 1e-3 * sampleRate)),
    gain: spec.gain * rng.range(0.3, 1) * (rng.uniform() < 0.5 ? -1 : 1),
  }));
  const dry = signal.slice();
  for (const { delay, gain } of echoes) {
    // In bounds: delay ≤ i < signal.length = dry.length.
    for (let i = delay; i < signal.length; i++) signal[i]! += gain * dry[i - delay]!;
  }
}
