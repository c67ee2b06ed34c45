import { at } from '../util/at';
import { Random } from './random';

/**
 * `genrep synth --faults localised`: instead of the machine's own (stationary) faults, each anomalous clip carries
 * one intermittent event confined to a recorded time span [t0, t1] and frequency band [f0, f1] — the ground truth
 * for measuring whether an explanation points at the right place (docs/explain.md, "Localisation").
 */
export type FaultMode = 'machine' | 'localised';
export const FAULT_MODES: readonly FaultMode[] = ['machine', 'localised'];

/**
 * knock: a few short impulses ringing a structural mode and decaying (a loose part hit by the rotor);
 * rub: band-limited friction noise with stick-slip modulation (a seal or guard touching the shaft);
 * burst: a tonal whine with slight frequency wobble (a resonance briefly excited, a valve singing).
 */
export type LocalisedKind = 'knock' | 'rub' | 'burst';
export const LOCALISED_KINDS: readonly LocalisedKind[] = ['knock', 'rub', 'burst'];

export interface LocalisedFault {
  kind: LocalisedKind;
  /** Seconds from the clip's start; the event's samples are zero outside [t0, t1]. */
  t0: number;
  t1: number;
  /** Hz; the event's energy lies in [f0, f1] (a band-pass's −3 dB edges; a burst's tone wobbles inside it). */
  f0: number;
  f1: number;
  /** The plan's severity draw (user severity × log-uniform spread): the event's in-band level, see IN_BAND_RATIO. */
  severity: number;
}

/**
 * Frequency regions events are placed in, about an octave apart so that a band found by an explanation can only
 * overlap one of them. They avoid the lowest few hundred Hz, where every machine's shaft tones and hum already sit.
 */
const REGIONS: readonly [number, number][] = [
  [300, 600],
  [800, 1400],
  [1800, 3000],
  [3600, 5200],
  [5800, 7400],
];
/** Span length as a fraction of the clip: 0.3–1.5 s of a 10 s clip. */
const SPAN_FRACTION: readonly [number, number] = [0.03, 0.15];
/**
 * Event RMS over its span relative to the clip's own RMS in the same band and span (machine + hall, before the
 * event) at severity 1: +15.6 dB in band, over a tenth of the clip in a band a few mel bins wide. With the plan's
 * spread (0.25–2.5) events run from +3.5 dB to +23.5 dB in band, so some are missed by a detector and some are
 * obvious. Calibrated as the machine faults' faultScale was (docs/synth.md): fbank-stats, K_n = 1, no DN, source
 * AUC ≈ 0.9 (measured 0.896 on fan, pump, gearbox; 1.5 gave 0.77, events mostly below what 10 s pooling sees).
 */
const IN_BAND_RATIO = 6;
/** Fade in/out at the span's edges, seconds (keeps the event inside [t0, t1] without a click at its edges). */
const EDGE_SEC = 0.02;

/**
 * The event of anomalous clip `index`: the kind cycles with the index and the region with index ÷ kinds, so every
 * kind meets every region; span position, length and the band inside its region come from the clip's own key.
 */
export function planLocalisedFault(
  key: string,
  index: number,
  durationSec: number,
  sampleRate: number,
  severity: number,
): LocalisedFault {
  const rng = new Random(`${key}/localised`);
  const kind = at(LOCALISED_KINDS, index % LOCALISED_KINDS.length, 'localised kinds');
  const regions = REGIONS.filter(([, hi]) => hi < 0.45 * sampleRate);
  const usable = regions.length > 0 ? regions : [[0.05 * sampleRate, 0.2 * sampleRate] as [number, number]];
  const [lo, hi] = at(usable, Math.floor(index / LOCALISED_KINDS.length) % usable.length, 'fault regions');
  const length = durationSec * rng.range(SPAN_FRACTION[0], SPAN_FRACTION[1]);
  const margin = 0.05 * durationSec;
  const t0 = rng.range(margin, durationSec - margin - length);
  let f0: number;
  let f1: number;
  if (kind === 'burst') {
    // A tone: the band is the tone's wobble (±3 %), placed inside the region.
    const centre = rng.range(lo * 1.05, hi / 1.05);
    f0 = centre / 1.03;
    f1 = centre * 1.03;
  } else {
    // Two thirds of the region's width (log scale), somewhere inside it.
    const width = Math.log(hi / lo) * (2 / 3);
    const start = Math.log(lo) + rng.uniform() * (Math.log(hi / lo) - width);
    f0 = Math.exp(start);
    f1 = Math.exp(start + width);
  }
  return { kind, t0: round(t0, 4), t1: round(t0 + length, 4), f0: round(f0, 1), f1: round(f1, 1), severity };
}

/**
 * Adds the event to `out` (machine + hall, at the machine's units). Its level is set from the clip itself: the RMS
 * of `out` in the event's band over its span, times IN_BAND_RATIO × severity.
 */
export function addLocalisedFault(out: Float32Array, sampleRate: number, fault: LocalisedFault, key: string): void {
  const rng = new Random(`${key}/localised-event`);
  const start = Math.max(0, Math.round(fault.t0 * sampleRate));
  const end = Math.min(out.length, Math.round(fault.t1 * sampleRate));
  const n = end - start;
  if (n <= 0) return;
  const centre = Math.sqrt(fault.f0 * fault.f1);
  const q = centre / (fault.f1 - fault.f0);
  // The clip's own in-band level over the span: band-pass from a little before the span so the filter has settled.
  const preRoll = Math.min(start, Math.round(0.05 * sampleRate));
  const clipBand = bandPass(out.slice(start - preRoll, end), sampleRate, centre, q);
  const reference = rms(clipBand.subarray(preRoll));
  const event = new Float32Array(n);
  if (fault.kind === 'knock') {
    // 2–5 hits inside the span, each a unit impulse rung through the band; the decay keeps the ringing inside it.
    const hits = 2 + Math.floor(rng.uniform() * 4);
    const tau = rng.range(0.01, 0.03) * sampleRate;
    const last = Math.max(1, n - Math.round(4 * tau));
    const excitation = new Float32Array(n);
    for (let h = 0; h < hits; h++) {
      const at0 = Math.floor(rng.uniform() * last);
      const amp = 1 + 0.3 * rng.gaussian();
      // In bounds: at0 < last ≤ n and the loop stops at n.
      for (let i = at0; i < n; i++) excitation[i]! += amp * rng.gaussian() * Math.exp(-(i - at0) / tau);
    }
    event.set(bandPass(excitation, sampleRate, centre, q));
  } else if (fault.kind === 'rub') {
    const noise = bandPass(rng.fillGaussian(new Float32Array(n), 1), sampleRate, centre, q);
    const stickSlip = rng.range(3, 12);
    const phase = rng.phase();
    // In bounds: i < n, the length of noise and event.
    for (let i = 0; i < n; i++)
      event[i] = noise[i]! * (1 + 0.6 * Math.sin((2 * Math.PI * stickSlip * i) / sampleRate + phase));
  } else {
    const wobbleHz = rng.range(2, 6);
    const depth = 0.5 * (fault.f1 - fault.f0);
    let phase = rng.phase();
    // In bounds: i < n = event.length.
    for (let i = 0; i < n; i++) {
      phase += (2 * Math.PI * (centre + depth * Math.sin((2 * Math.PI * wobbleHz * i) / sampleRate))) / sampleRate;
      event[i] = Math.sin(phase);
    }
  }
  const edge = Math.min(Math.round(EDGE_SEC * sampleRate), Math.floor(n / 2));
  // In bounds: i < edge ≤ n / 2, so n − 1 − i ≥ 0.
  for (let i = 0; i < edge; i++) {
    const w = 0.5 * (1 - Math.cos((Math.PI * i) / edge));
    event[i]! *= w;
    event[n - 1 - i]! *= w;
  }
  const level = rms(event);
  if (level === 0) return;
  const gain = (IN_BAND_RATIO * fault.severity * reference) / level;
  // In bounds: start + i < end ≤ out.length.
  for (let i = 0; i < n; i++) out[start + i]! += gain * event[i]!;
}

/** Two cascaded RBJ band-pass sections (0 dB peak) at `hz` with quality `q`: a 4th-order band-pass. */
function bandPass(input: Float32Array, sampleRate: number, hz: number, q: number): Float32Array {
  let signal = input;
  for (let pass = 0; pass < 2; pass++) {
    const w0 = (2 * Math.PI * hz) / sampleRate;
    const alpha = Math.sin(w0) / (2 * q);
    const a0 = 1 + alpha;
    const b0 = alpha / a0;
    const a1 = (-2 * Math.cos(w0)) / a0;
    const a2 = (1 - alpha) / a0;
    const y = new Float32Array(signal.length);
    let x1 = 0;
    let x2 = 0;
    let y1 = 0;
    let y2 = 0;
    // In bounds: i < signal.length = y.length.
    for (let i = 0; i < signal.length; i++) {
      const x = signal[i]!;
      const v = b0 * x - b0 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = v;
      y[i] = v;
    }
    signal = y;
  }
  return signal;
}

function rms(x: Float32Array): number {
  let s = 0;
  // In bounds: i < x.length.
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length > 0 ? Math.sqrt(s / x.length) : 0;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
