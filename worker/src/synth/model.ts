import type { Random } from './random';

/** Background sound of the hall a machine stands in; a different hall is one of the domain shifts. */
export type BackgroundKind = 'A' | 'B' | 'C';

/** One operating condition: what the clip's attributes say and what the physics uses. */
export interface Condition {
  /** Written into the file name in this order, as `key_value` pairs. */
  attributes: [string, string][];
  /** Nominal shaft speed (rev/min); for an induction motor the synchronous speed, which the rotor slips below. */
  rpm: number;
  /** Load in [0, 1] (torque, flow, electrical load): drives mesh, vane-pass and hum amplitudes. */
  load: number;
  background: BackgroundKind;
  /** Background level relative to the hall's usual one (dB): how far the microphone is from the machine. */
  backgroundGainDb?: number;
  /**
   * How unsteady the machine runs (1 = a well-controlled drive): scales the per-clip speed and load deviations and
   * the speed wander. Off-design operation (a fan pushed past its rating, a pump at full flow) is less steady.
   */
  unsteadiness?: number;
  /**
   * Reflections that change from one recording to the next (objects and people moving in the hall, a microphone
   * not fixed in place): each clip draws `count` echoes with delays up to `maxDelayMs` and gains up to `gain`.
   * Their comb filtering ripples the whole spectrum differently in every clip. Absent: a fixed set-up.
   */
  reflections?: { count: number; maxDelayMs: number; gain: number };
  /** Microphone position (changes which structural modes the microphone hears). */
  location?: 'A' | 'B';
}

/** An anomaly of a given kind at a given severity (1 = the generator's nominal fault size). */
export interface Anomaly {
  kind: string;
  severity: number;
}

export interface RenderContext {
  rng: Random;
  sampleRate: number;
  samples: number;
  durationSec: number;
  /** The condition's unsteadiness (1 when it gives none). */
  unsteadiness: number;
  /** The clip being built, in the machine's own units (a nominal clip has RMS about 1). */
  out: Float32Array;
}

export interface MachineModel {
  name: string;
  /** One line on the mechanism, for docs and --help. */
  description: string;
  /** Operating conditions of the source domain; clips cycle through them. */
  source: readonly Condition[];
  /** Operating conditions of the target domain (the shifted one). */
  target: readonly Condition[];
  /**
   * Fault size at severity 1, relative to the amplitudes written in render(): the one calibration constant per
   * machine, set so that severity 1 gives source-domain faults the simple spectral features detect with AUC ≈ 0.9.
   */
  faultScale: number;
  /** Fault kinds; anomalous clips cycle through them. */
  anomalies: readonly string[];
  /** Adds the machine's own sound (not the background) for one clip to ctx.out. */
  render(ctx: RenderContext, condition: Condition, anomaly: Anomaly | undefined): void;
}
