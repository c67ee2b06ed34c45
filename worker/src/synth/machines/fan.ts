import { addFixedTones, addShaftPartials } from '../dsp';
import type { MachineModel } from '../model';
import { at } from '../../util/at';
import { type Mode, boost, faultImpulses, partials, shaftTrack, structureBorneNoise } from './common';
import { sourceCondition, targetCondition } from './conditions';

const BLADES = 7;
/** Outer-race defect frequency of the motor bearing (8 balls, d/D 0.22): 4 × (1 − 0.22) per revolution. */
const BPFO = 3.12;
const DUCT_MODES: Mode[] = [
  { hz: 380, q: 2.5, gain: 0.9 },
  { hz: 950, q: 3, gain: 1.1 },
  { hz: 2100, q: 4, gain: 0.7 },
  { hz: 4300, q: 3, gain: 0.35 },
];
const BEARING_MODES: Mode[] = [
  { hz: 3200, q: 12, gain: 1 },
  { hz: 5100, q: 10, gain: 0.6 },
];

/**
 * An axial fan: blade-pass tone (7 blades) and its harmonics over aerodynamic broadband noise that grows with
 * speed (sound power ∝ speed⁵), duct resonances, motor hum at twice the mains frequency.
 * Faults: imbalance (1× and 2× grow; the blade-pass tone is amplitude-modulated at 1×, giving sidebands);
 * an outer-race bearing defect (impulses at BPFO ringing the housing's high modes).
 */
export const fan: MachineModel = {
  name: 'fan',
  description: 'axial fan: 7-blade pass tone and harmonics, speed-dependent aerodynamic noise, duct resonances',
  source: [1200, 1350, 1500].map((rpm) => sourceCondition({ spd: rpm, bg: 'A' }, { rpm, load: 0.5, background: 'A' })),
  target: [targetCondition({ spd: 1800, bg: 'C' }, { rpm: 1800, load: 0.5, background: 'C' })],
  faultScale: 0.7,
  anomalies: ['imbalance', 'bearing'],
  render(ctx, condition, anomaly) {
    const { rng, out, sampleRate } = ctx;
    const track = shaftTrack(ctx, condition.rpm, 0.012);
    const speed = condition.rpm / 1500;
    const aero = speed ** 2.5;
    const bpf = [1, 0.55, 0.3, 0.16, 0.09, 0.05].map((a) => 0.6 * aero * a);
    const orders = [1, 2, 3, ...bpf.map((_, k) => BLADES * (k + 1))];
    const amps = [0.08, 0.04, 0.02, ...bpf];
    if (anomaly?.kind === 'imbalance') {
      const s = anomaly.severity;
      boost(amps, 0, 0.3 * s * speed ** 2);
      boost(amps, 1, 0.12 * s * speed ** 2);
      // Blade-pass modulated at 1× with depth m: sidebands (B ± 1)× at m/2 of the carrier.
      const m = Math.min(0.9, 0.3 * s * speed ** 2);
      orders.push(BLADES - 1, BLADES + 1, 2 * BLADES - 1, 2 * BLADES + 1);
      const first = at(bpf, 0, 'blade-pass amplitudes');
      const second = at(bpf, 1, 'blade-pass amplitudes');
      amps.push((m / 2) * first, (m / 2) * first, (m / 2) * second, (m / 2) * second);
    }
    addShaftPartials(out, sampleRate, track, partials(ctx, orders, amps));
    addFixedTones(out, sampleRate, [
      { hz: 100, amp: 0.05 * rng.gainDb(2), phase: rng.phase() },
      { hz: 200, amp: 0.02 * rng.gainDb(2), phase: rng.phase() },
    ]);
    structureBorneNoise(ctx, aero, DUCT_MODES, 0.12);
    structureBorneNoise(ctx, 0.05 * speed, BEARING_MODES, 0);
    if (anomaly?.kind === 'bearing') faultImpulses(ctx, track, BPFO, 7 * anomaly.severity * speed, BEARING_MODES);
  },
};
