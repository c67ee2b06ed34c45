import { at } from '../../util/at';
import { addShaftPartials } from '../dsp';
import type { MachineModel } from '../model';
import { type Mode, faultImpulses, loadZone, partials, shaftTrack, structureBorneNoise } from './common';
import { sourceCondition, targetCondition } from './conditions';

/** Defect frequencies per revolution of a 9-ball bearing with d/D 0.2, contact angle 0 (standard formulas). */
const BPFO = 3.6;
const BPFI = 5.4;
const BSF = 2.4;
const CAGE = 0.4;
/** Modes of the test-rig housing, and how loud each is at microphone positions A and B. */
const HOUSING: { hz: number; q: number }[] = [
  { hz: 1800, q: 5 },
  { hz: 3500, q: 8 },
  { hz: 5300, q: 6 },
];
const HEARD = { A: [1, 0.6, 0.4], B: [0.45, 1, 0.9] };

/**
 * A spindle test rig with a rolling-element bearing: shaft harmonics, cage rate, rolling noise that grows with
 * speed and rings the housing modes (the microphone position changes which modes dominate).
 * Faults: outer-race (impulses at BPFO), inner-race (BPFI, modulated at 1× by the load zone) and ball defects
 * (BSF, modulated at the cage rate).
 */
export const bearing: MachineModel = {
  name: 'bearing',
  description: 'bearing test rig: shaft harmonics, rolling noise through housing modes; outer/inner/ball defects',
  source: [1800, 2400, 3000].map((rpm) =>
    sourceCondition({ vel: rpm, loc: 'A' }, { rpm, load: 0.5, background: 'A', location: 'A' }),
  ),
  target: [targetCondition({ vel: 2700, loc: 'B' }, { rpm: 2700, load: 0.5, background: 'B', location: 'B' })],
  faultScale: 0.9,
  anomalies: ['outer', 'inner', 'ball'],
  render(ctx, condition, anomaly) {
    const { rng, out, sampleRate } = ctx;
    const track = shaftTrack(ctx, condition.rpm, 0.01);
    const speed = condition.rpm / 2400;
    const heard = HEARD[condition.location ?? 'A'];
    const modes: Mode[] = HOUSING.map((m, k) => ({ ...m, gain: at(heard, k, 'mode gains') }));
    addShaftPartials(out, sampleRate, track, partials(ctx, [1, 2, 3, CAGE], [0.25, 0.08, 0.04, 0.02]));
    structureBorneNoise(ctx, 0.8 * speed ** 1.5, modes, 0.08);
    if (!anomaly) return;
    const amp = 10 * anomaly.severity * speed;
    if (anomaly.kind === 'outer') faultImpulses(ctx, track, BPFO, amp, modes);
    else if (anomaly.kind === 'inner')
      faultImpulses(ctx, track, BPFI, amp, modes, loadZone(track, 1, 0.8, rng.phase()));
    else faultImpulses(ctx, track, BSF, amp, modes, loadZone(track, CAGE, 0.7, rng.phase()));
  },
};
