import { addShaftPartials } from '../dsp';
import type { MachineModel } from '../model';
import { type Mode, boost, faultImpulses, partials, shaftTrack, structureBorneNoise } from './common';
import { sourceCondition, targetCondition } from './conditions';

/** Pinion and wheel teeth: mesh at 23 × the input shaft; the output shaft turns at 23/41 of it. */
const PINION = 23;
const WHEEL = 41;
const OUTPUT = PINION / WHEEL;
const GEAR_MODES: Mode[] = [
  { hz: 1100, q: 4, gain: 0.8 },
  { hz: 2400, q: 6, gain: 0.7 },
  { hz: 3900, q: 5, gain: 0.4 },
];

/**
 * A single-stage spur gearbox: gear-mesh tone and its harmonics (stronger under torque, as the teeth deflect),
 * sidebands at both shaft rates from normal run-out, housing resonances.
 * Faults: a damaged pinion tooth (strong, wide sidebands at the input shaft rate around every mesh harmonic and an
 * impact once per input revolution); shaft misalignment (2× grows, with 2× sidebands and a stronger 2nd mesh harmonic).
 */
export const gearbox: MachineModel = {
  name: 'gearbox',
  description:
    'spur gearbox 23/41 teeth: gear-mesh harmonics with shaft sidebands, torque-dependent, housing resonances',
  source: [20, 50, 80].map((load) =>
    sourceCondition({ spd: 1500, load, bg: 'A' }, { rpm: 1500, load: load / 100, background: 'A' }),
  ),
  target: [
    targetCondition({ spd: 1200, load: 50, bg: 'B' }, { rpm: 1200, load: 0.5, background: 'B', backgroundGainDb: -4 }),
  ],
  faultScale: 0.6,
  anomalies: ['tooth', 'misalignment'],
  render(ctx, condition, anomaly) {
    const { out, sampleRate } = ctx;
    const track = shaftTrack(ctx, condition.rpm, 0.008);
    const torque = 0.5 + condition.load;
    const mesh = [1, 0.45, 0.2].map((a) => 0.5 * torque * a);
    const orders: number[] = [1, OUTPUT, 2];
    const amps: number[] = [0.05, 0.03, 0.02];
    const severity = anomaly?.severity ?? 0;
    const tooth = anomaly?.kind === 'tooth' ? severity : 0;
    const misaligned = anomaly?.kind === 'misalignment' ? severity : 0;
    if (misaligned > 0) boost(amps, 2, 0.12 * misaligned);
    mesh.forEach((carrier, h) => {
      const centre = PINION * (h + 1);
      const a = h === 1 ? carrier * (1 + 0.4 * misaligned) : carrier;
      orders.push(centre);
      amps.push(a);
      for (let k = 1; k <= 6; k++) {
        const side = (k <= 2 ? 0.08 : 0) * a + 0.1 * tooth * a * 0.75 ** (k - 1);
        if (side > 0) {
          orders.push(centre - k, centre + k);
          amps.push(side, side);
        }
      }
      orders.push(centre - OUTPUT, centre + OUTPUT);
      amps.push(0.05 * a, 0.05 * a);
      if (misaligned > 0) {
        orders.push(centre - 2, centre + 2);
        amps.push(0.08 * misaligned * a, 0.08 * misaligned * a);
      }
    });
    addShaftPartials(out, sampleRate, track, partials(ctx, orders, amps));
    structureBorneNoise(ctx, 0.35 * torque, GEAR_MODES, 0.06);
    if (tooth > 0) faultImpulses(ctx, track, 1, 3 * tooth * torque, GEAR_MODES);
  },
};
