import { describe, expect, it } from 'vitest';
import { type Anomaly, type Condition, machineModel, renderClip } from '../../worker/src/synth';
import { hannGoertzelPower } from '../helpers/goertzel';

const RATE = 16000;

/** Power of `x` at `hz` (0.5 Hz resolution for 2 s). */
function powerAt(x: Float32Array, hz: number): number {
  return hannGoertzelPower(x, hz, RATE);
}

/** The frequency with the most power in [lo, hi], on a 0.5 Hz grid. */
function peak(x: Float32Array, lo: number, hi: number): number {
  let best = lo;
  let bestPower = -1;
  for (let f = lo; f <= hi; f += 0.5) {
    const p = powerAt(x, f);
    if (p > bestPower) [best, bestPower] = [f, p];
  }
  return best;
}

function clip(machine: string, condition: Condition, anomaly?: Anomaly, key = 'physics'): Float32Array {
  const model = machineModel(machine)!;
  return renderClip({ model, condition, anomaly, key, durationSec: 2, sampleRate: RATE });
}

function rpmOf(condition: Condition, key: string): number {
  return Number(condition.attributes.find(([k]) => k === key)![1]);
}

describe('the synthetic machines follow their physics', () => {
  it("a fan's blade-pass tone and its 2nd harmonic sit at 7 and 14 × the speed its attributes give", () => {
    const fan = machineModel('fan')!;
    for (const condition of [fan.source[1]!, fan.target[0]!]) {
      const shaftHz = rpmOf(condition, 'spd') / 60;
      const x = clip('fan', condition);
      // Per-clip speed deviation is ~1 %: allow 4 %.
      expect(Math.abs(peak(x, 100, 260) / (7 * shaftHz) - 1)).toBeLessThan(0.04);
      expect(Math.abs(peak(x, 260, 480) / (14 * shaftHz) - 1)).toBeLessThan(0.04);
    }
  });

  it("a gearbox's mesh tone is 23 × the input speed; a damaged tooth raises the sidebands at ± the shaft rate", () => {
    const gearbox = machineModel('gearbox')!;
    const condition = gearbox.source[0]!;
    const shaftHz = rpmOf(condition, 'spd') / 60;
    const healthy = clip('gearbox', condition);
    const mesh = peak(healthy, 400, 800);
    expect(Math.abs(mesh / (23 * shaftHz) - 1)).toBeLessThan(0.03);
    const damaged = clip('gearbox', condition, { kind: 'tooth', severity: 2 });
    // The clip's own shaft rate is mesh / 23; search each sideband within ±1 Hz of where it must be.
    const sidebands = (x: Float32Array): number =>
      [-1, 1, -2, 2].reduce(
        (sum, k) => sum + powerAt(x, peak(x, mesh + (k * mesh) / 23 - 1, mesh + (k * mesh) / 23 + 1)),
        0,
      );
    expect(sidebands(damaged)).toBeGreaterThan(4 * sidebands(healthy));
  });

  it("a motor's magnetic hum stays at 100 Hz while its shaft tones move with load (slip)", () => {
    const motor = machineModel('motor')!;
    const light = clip('motor', motor.source[0]!);
    const full = clip('motor', motor.target[0]!);
    expect(Math.abs(peak(light, 90, 110) - 100)).toBeLessThanOrEqual(1);
    expect(Math.abs(peak(full, 90, 110) - 100)).toBeLessThanOrEqual(1);
    // Cooling-fan blade pass (9 × rotor rate): lower at full load, because the rotor slips more.
    expect(peak(full, 200, 235)).toBeLessThan(peak(light, 200, 235));
  });

  it('an outer-race bearing fault puts impulses at BPFO = 3.6 × shaft rate into the envelope of the high band', () => {
    const bearing = machineModel('bearing')!;
    const condition = bearing.source[0]!;
    const bpfo = 3.6 * (rpmOf(condition, 'vel') / 60);
    const envelope = (x: Float32Array): Float32Array => {
      // High-pass by first difference, square: the envelope's spectrum shows the impact rate.
      const e = new Float32Array(x.length);
      for (let i = 1; i < x.length; i++) e[i] = (x[i]! - x[i - 1]!) ** 2;
      return e;
    };
    const faulty = envelope(clip('bearing', condition, { kind: 'outer', severity: 1.5 }));
    const healthy = envelope(clip('bearing', condition));
    expect(Math.abs(peak(faulty, 60, 160) / bpfo - 1)).toBeLessThan(0.03);
    expect(powerAt(faulty, peak(faulty, 60, 160))).toBeGreaterThan(20 * powerAt(healthy, peak(faulty, 60, 160)));
  });

  it('imbalance raises the 1× component of a fan', () => {
    const fan = machineModel('fan')!;
    const condition = fan.source[2]!;
    const shaftHz = rpmOf(condition, 'spd') / 60;
    const healthy = clip('fan', condition);
    const unbalanced = clip('fan', condition, { kind: 'imbalance', severity: 1 });
    const around = (x: Float32Array): number => powerAt(x, peak(x, shaftHz * 0.96, shaftHz * 1.04));
    expect(around(unbalanced)).toBeGreaterThan(4 * around(healthy));
  });
});
