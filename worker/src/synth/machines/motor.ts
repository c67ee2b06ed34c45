import { addFixedTones, addShaftPartials } from '../dsp';
import type { MachineModel } from '../model';
import { type Mode, boost, faultImpulses, partials, shaftTrack, structureBorneNoise } from './common';
import { sourceCondition, targetCondition } from './conditions';

const LINE_HZ = 50;
const ROTOR_BARS = 28;
const FAN_BLADES = 9;
const STATOR_MODES: Mode[] = [
  { hz: 2000, q: 6, gain: 0.6 },
  { hz: 4500, q: 5, gain: 0.35 },
];
const FRAME_MODES: Mode[] = [{ hz: 1250, q: 6, gain: 1 }];

/**
 * A 4-pole induction motor on 50 Hz mains with its cooling fan: magnetic hum at twice the mains frequency and its
 * harmonics (stronger with load current), rotor-slot harmonics at 28 × rotor rate ± 100 Hz, cooling-fan blade pass;
 * the rotor slows with load (slip), so the shaft-locked tones move while the hum stays put.
 * Faults: misalignment (1×, 2× and 3× grow); looseness (half-order sub-harmonics, long harmonic series, rattle).
 */
export const motor: MachineModel = {
  name: 'motor',
  description: '4-pole induction motor: 100 Hz magnetic hum, rotor-slot harmonics, cooling fan; slip grows with load',
  source: [25, 50, 75].map((load) =>
    sourceCondition({ load, bg: 'A' }, { rpm: 1500, load: load / 100, background: 'A' }),
  ),
  target: [targetCondition({ load: 100, bg: 'C' }, { rpm: 1500, load: 1, background: 'C' })],
  faultScale: 0.65,
  anomalies: ['misalignment', 'looseness'],
  render(ctx, condition, anomaly) {
    const { rng, out, sampleRate } = ctx;
    const slip = 0.01 + 0.04 * condition.load;
    const rotorHz = (condition.rpm / 60) * (1 - slip);
    const track = shaftTrack(ctx, rotorHz * 60, 0.002, 0.001);
    const current = 0.4 + condition.load;
    const slot = (2 * LINE_HZ) / rotorHz;
    const orders = [1, 2, 3, FAN_BLADES, 2 * FAN_BLADES, ROTOR_BARS - slot, ROTOR_BARS + slot];
    const amps = [0.06, 0.04, 0.015, 0.2, 0.08, 0.1 * current, 0.1 * current];
    const severity = anomaly?.severity ?? 0;
    if (anomaly?.kind === 'misalignment') {
      boost(amps, 0, 0.1 * severity);
      boost(amps, 1, 0.4 * severity);
      boost(amps, 2, 0.2 * severity);
      orders.push(4);
      amps.push(0.1 * severity);
    }
    if (anomaly?.kind === 'looseness') {
      for (const h of [0.5, 1.5, 2.5, 3.5, 4.5]) {
        orders.push(h);
        amps.push((0.07 * severity) / h);
      }
      for (let h = 4; h <= 12; h++) {
        orders.push(h);
        amps.push((0.04 * severity) / Math.sqrt(h));
      }
    }
    addShaftPartials(out, sampleRate, track, partials(ctx, orders, amps));
    const hum = [0.35, 0.12, 0.08, 0.04].map((a, k) => ({
      hz: 2 * LINE_HZ * (k + 1),
      amp: a * current * rng.gainDb(1.5),
      phase: rng.phase(),
    }));
    addFixedTones(out, sampleRate, hum);
    structureBorneNoise(ctx, 0.45, STATOR_MODES, 0.06);
    if (anomaly?.kind === 'looseness') faultImpulses(ctx, track, 1, 4 * severity, FRAME_MODES);
  },
};
