import { type FixedTone, addFixedTones, brownNoise, highPass, pinkNoise } from './dsp';
import type { BackgroundKind, RenderContext } from './model';
import type { Random } from './random';

/**
 * Factory-hall background, added after the machine. A hall has a noise colour and level, mains or plant hum, and
 * events: clanks (a struck part ringing at its own frequency; each event draws frequency, damping and strength),
 * swells (a forklift or a door: broadband noise rising and falling over seconds) and neighbouring machines that may
 * or may not be running. Each clip draws its own level (±1 dB), hum amplitudes, events and neighbours, so a busy
 * hall is a source of variation between recordings as well as a different average spectrum.
 */
interface Hall {
  /** Noise RMS relative to a nominal machine clip. */
  level: number;
  pink: number;
  brown: number;
  /** High-passed white hiss (compressed-air leaks, ventilation). */
  hiss: number;
  hum: { hz: number; amp: number }[];
  clanks: { perSec: number; loHz: number; hiHz: number; amp: number };
  swells: { perSec: number; amp: number };
  /**
   * Other machines that may be running nearby: each clip draws 0..max of them, each a tone (random frequency,
   * log-uniform in [loHz, hiHz]) with two harmonics at a random level.
   */
  neighbours: { max: number; loHz: number; hiHz: number; amp: number };
}

const HALLS: Record<BackgroundKind, Hall> = {
  // A quiet hall: steady pink noise, mains hum, a clank now and then.
  A: {
    level: 0.1,
    pink: 1,
    brown: 0.3,
    hiss: 0.1,
    hum: [
      { hz: 50, amp: 0.3 },
      { hz: 150, amp: 0.15 },
    ],
    clanks: { perSec: 0.1, loHz: 600, hiHz: 2500, amp: 0.5 },
    swells: { perSec: 0, amp: 0 },
    neighbours: { max: 0, loHz: 100, hiHz: 1000, amp: 0 },
  },
  // A busy hall with heavy machinery next door: rumble, 60 Hz plant, frequent clanks and passing vehicles.
  B: {
    level: 0.2,
    pink: 0.5,
    brown: 1,
    hiss: 0.05,
    hum: [
      { hz: 60, amp: 0.4 },
      { hz: 120, amp: 0.3 },
      { hz: 180, amp: 0.15 },
      { hz: 415, amp: 0.12 },
    ],
    clanks: { perSec: 2, loHz: 300, hiHz: 5000, amp: 0.8 },
    swells: { perSec: 0.3, amp: 1.2 },
    neighbours: { max: 3, loHz: 70, hiHz: 3000, amp: 0.2 },
  },
  // A hall with compressed-air lines: hiss, a compressor's 95 Hz, occasional clanks and passing trolleys.
  C: {
    level: 0.18,
    pink: 0.6,
    brown: 0.2,
    hiss: 0.8,
    hum: [
      { hz: 95, amp: 0.25 },
      { hz: 285, amp: 0.1 },
    ],
    clanks: { perSec: 1.5, loHz: 400, hiHz: 6000, amp: 0.7 },
    swells: { perSec: 0.3, amp: 1 },
    neighbours: { max: 3, loHz: 80, hiHz: 4000, amp: 0.2 },
  },
};

export function addBackground(ctx: RenderContext, kind: BackgroundKind, gainDb: number): void {
  const hall = HALLS[kind];
  const { rng, samples, sampleRate, out } = ctx;
  const level = hall.level * 10 ** (gainDb / 20) * rng.gainDb(1);
  const pink = pinkNoise(rng, samples);
  const brown = brownNoise(rng, samples, sampleRate);
  const hiss = highPass(rng.fillGaussian(new Float32Array(samples), 1), sampleRate, 2500);
  const mix = Math.hypot(hall.pink, hall.brown, hall.hiss);
  const wp = (level * hall.pink) / mix;
  const wb = (level * hall.brown) / mix;
  const wh = (level * hall.hiss) / mix;
  // In bounds: i < samples, the length of out and of the three noises.
  for (let i = 0; i < samples; i++) out[i]! += wp * pink[i]! + wb * brown[i]! + wh * hiss[i]!;

  const tones: FixedTone[] = hall.hum.map((h) => ({
    hz: h.hz * (1 + 0.002 * rng.gaussian()),
    amp: level * h.amp * rng.gainDb(1),
    phase: rng.phase(),
  }));
  addFixedTones(out, sampleRate, tones);

  const neighbours: FixedTone[] = [];
  const running = Math.floor(rng.uniform() * (hall.neighbours.max + 1));
  for (let k = 0; k < running; k++) {
    const hz = hall.neighbours.loHz * (hall.neighbours.hiHz / hall.neighbours.loHz) ** rng.uniform();
    const amp = level * hall.neighbours.amp * rng.range(0.2, 1);
    for (let h = 1; h <= 3; h++) neighbours.push({ hz: h * hz, amp: amp / h, phase: rng.phase() });
  }
  addFixedTones(out, sampleRate, neighbours);

  for (const t of poissonTimes(rng, hall.clanks.perSec, ctx.durationSec)) {
    const hz = hall.clanks.loHz * (hall.clanks.hiHz / hall.clanks.loHz) ** rng.uniform();
    addRing(out, sampleRate, t, hz, rng.range(5, 30), level * hall.clanks.amp * rng.range(0.3, 1.5), rng.phase());
  }
  for (const t of poissonTimes(rng, hall.swells.perSec, ctx.durationSec)) {
    addSwell(
      out,
      sampleRate,
      t,
      rng.range(0.8, 2.5),
      level * hall.swells.amp * rng.range(0.4, 1.2),
      pink,
      rng.uniform(),
    );
  }
}

/** Event times of a Poisson process of `rate` per second over `durationSec`. */
function poissonTimes(rng: Random, rate: number, durationSec: number): number[] {
  const times: number[] = [];
  if (rate <= 0) return times;
  for (let t = -Math.log(rng.uniform()) / rate; t < durationSec; t += -Math.log(rng.uniform()) / rate) times.push(t);
  return times;
}

/** A struck part: a decaying sinusoid at `hz` with quality `q` starting at `t`. */
function addRing(
  out: Float32Array,
  sampleRate: number,
  t: number,
  hz: number,
  q: number,
  amp: number,
  phase: number,
): void {
  if (hz >= 0.49 * sampleRate) return;
  const start = Math.floor(t * sampleRate);
  const tau = q / (Math.PI * hz);
  const end = Math.min(out.length, start + Math.ceil(6 * tau * sampleRate));
  const w = (2 * Math.PI * hz) / sampleRate;
  const decay = Math.exp(-1 / (tau * sampleRate));
  let envelope = amp;
  // In bounds: 0 ≤ start (t ≥ 0) and end ≤ out.length.
  for (let i = start; i < end; i++) {
    out[i]! += envelope * Math.sin(w * (i - start) + phase);
    envelope *= decay;
  }
}

/**
 * Something passing by: the hall's pink noise again (from a random offset, so it is not the same realisation) under
 * a raised-cosine envelope of `lengthSec`.
 */
function addSwell(
  out: Float32Array,
  sampleRate: number,
  centre: number,
  lengthSec: number,
  amp: number,
  noise: Float32Array,
  offset: number,
): void {
  const half = (lengthSec * sampleRate) / 2;
  const start = Math.max(0, Math.floor(centre * sampleRate - half));
  const end = Math.min(out.length, Math.ceil(centre * sampleRate + half));
  const shift = Math.floor(offset * noise.length);
  // In bounds: start ≥ 0, end ≤ out.length, and the noise index is taken modulo its length.
  for (let i = start; i < end; i++) {
    const x = (i - centre * sampleRate) / half;
    const envelope = 0.5 * (1 + Math.cos(Math.PI * x));
    out[i]! += amp * envelope * noise[(i + shift) % noise.length]!;
  }
}
