import { addFixedTones, addShaftPartials } from '../dsp';
import type { MachineModel } from '../model';
import { type Mode, boost, faultImpulses, loadZone, partials, shaftTrack, structureBorneNoise } from './common';
import { sourceCondition, targetCondition } from './conditions';

const VANES = 6;
/** Inner-race defect frequency (9 balls, d/D 0.1): 4.5 × (1 + 0.1) per revolution. */
const BPFI = 4.95;
const PIPE_MODES: Mode[] = [
  { hz: 650, q: 4, gain: 0.8 },
  { hz: 1600, q: 5, gain: 0.6 },
  { hz: 3100, q: 6, gain: 0.35 },
];
const CASING_MODES: Mode[] = [
  { hz: 1400, q: 6, gain: 1 },
  { hz: 2700, q: 10, gain: 0.8 },
];

/**
 * A centrifugal pump on a 2-pole induction motor: vane-pass tone (6 vanes) that strengthens as the flow moves away
 * from the best-efficiency point, low-frequency flow turbulence, pipe resonances; the motor slows with load (slip).
 * Faults: mechanical looseness (half-order sub-harmonics, a rich harmonic series and rattling once per turn);
 * an inner-race bearing defect (impulses at BPFI, modulated once per turn as the defect passes the load zone).
 */
export const pump: MachineModel = {
  name: 'pump',
  description: 'centrifugal pump: 6-vane pass tone, flow turbulence, pipe resonances; motor slip grows with load',
  source: [40, 55, 70].map((flow) =>
    sourceCondition({ flow, bg: 'A' }, { rpm: 3000, load: flow / 100, background: 'A' }),
  ),
  target: [targetCondition({ flow: 100, bg: 'C' }, { rpm: 3000, load: 1, background: 'C' })],
  faultScale: 0.75,
  anomalies: ['looseness', 'bearing'],
  render(ctx, condition, anomaly) {
    const { rng, out, sampleRate } = ctx;
    const slip = 0.01 + 0.03 * condition.load;
    const track = shaftTrack(ctx, condition.rpm * (1 - slip), 0.004);
    const offDesign = 0.4 + 1.5 * Math.abs(condition.load - 0.7);
    const vpf = [1, 0.5, 0.25, 0.12, 0.06].map((a) => 0.55 * offDesign * a);
    const orders = [1, 2, 3, ...vpf.map((_, k) => VANES * (k + 1))];
    const amps = [0.1, 0.06, 0.03, ...vpf];
    if (anomaly?.kind === 'looseness') {
      const s = anomaly.severity;
      for (const h of [0.5, 1.5, 2.5, 3.5]) {
        orders.push(h);
        amps.push((0.08 * s) / h);
      }
      // Clipped, rattling motion: a long harmonic series (orders 1-3 already exist above).
      for (let h = 1; h <= 10; h++) {
        const extra = (0.05 * s) / Math.sqrt(h);
        if (h <= 3) boost(amps, h - 1, extra);
        else {
          orders.push(h);
          amps.push(extra);
        }
      }
    }
    addShaftPartials(out, sampleRate, track, partials(ctx, orders, amps));
    addFixedTones(out, sampleRate, [{ hz: 100, amp: 0.06 * rng.gainDb(2), phase: rng.phase() }]);
    structureBorneNoise(ctx, 0.5 + condition.load, PIPE_MODES, 0.05);
    if (anomaly?.kind === 'looseness') {
      faultImpulses(ctx, track, 1, 3 * anomaly.severity, CASING_MODES.slice(0, 1));
    }
    if (anomaly?.kind === 'bearing') {
      faultImpulses(ctx, track, BPFI, 5 * anomaly.severity, CASING_MODES, loadZone(track, 1, 0.8, rng.phase()));
    }
  },
};
