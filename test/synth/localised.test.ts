import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LOCALISED_FAULTS_FILE,
  type LocalisedFaultRecord,
  SYNTH_MANIFEST,
  machineModel,
  planLocalisedFault,
  renderClip,
  synthesizeDataset,
} from '../../worker/src/synth';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => fsp.rm(d, { recursive: true, force: true })));
});

const SR = 16000;
const DURATION = 2;

/** The event as the file holds it: the clip with the event minus the same clip without it (same key, same streams). */
function eventOf(
  index: number,
  machine = 'pump',
): { diff: Float32Array; fault: ReturnType<typeof planLocalisedFault> } {
  const model = machineModel(machine)!;
  const key = `localised-test/${machine}/${index}`;
  const fault = planLocalisedFault(key, index, DURATION, SR, 2);
  const request = {
    model,
    condition: model.source[0]!,
    anomaly: undefined,
    key,
    durationSec: DURATION,
    sampleRate: SR,
  };
  const plain = renderClip(request);
  const withEvent = renderClip({ ...request, event: fault });
  return { diff: withEvent.map((y, i) => y - plain[i]!), fault };
}

function bandEnergyFraction(x: Float32Array, lo: number, hi: number): number {
  let inBand = 0;
  let total = 0;
  const n = x.length;
  // A plain DFT over the non-negative frequencies (a few thousand samples: fast enough, no FFT needed here).
  for (let k = 1; k < n / 2; k++) {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * k) / n;
    for (let i = 0; i < n; i++) {
      re += x[i]! * Math.cos(w * i);
      im -= x[i]! * Math.sin(w * i);
    }
    const p = re * re + im * im;
    total += p;
    const hz = (k * SR) / n;
    if (hz >= lo && hz <= hi) inBand += p;
  }
  return inBand / total;
}

describe('localised faults', () => {
  it('confine each kind to its span and band, at a level set from the clip', () => {
    for (const index of [0, 1, 2, 3, 7, 11]) {
      const { diff, fault } = eventOf(index);
      expect(fault.t1 - fault.t0).toBeGreaterThanOrEqual(0.03 * DURATION - 1e-3);
      expect(fault.t1 - fault.t0).toBeLessThanOrEqual(0.15 * DURATION + 1e-3);
      const start = Math.round(fault.t0 * SR);
      const end = Math.round(fault.t1 * SR);
      // Before the span nothing changes; the pump's set-up has no reflections, so nothing after it either.
      expect(diff.subarray(0, start).every((v) => v === 0)).toBe(true);
      expect(diff.subarray(end).every((v) => v === 0)).toBe(true);
      const span = diff.subarray(start, end);
      expect(Math.max(...span.map(Math.abs))).toBeGreaterThan(1e-3);
      // ≥ 80 % of the event's energy within a third of an octave of its recorded band (4th-order band-pass skirts).
      expect(bandEnergyFraction(span, fault.f0 / 1.26, fault.f1 * 1.26), `${fault.kind} ${index}`).toBeGreaterThan(0.8);
    }
  });

  it('cycle the kinds and spread the bands over distinct regions', () => {
    const faults = Array.from({ length: 15 }, (_, i) => planLocalisedFault(`k/${i}`, i, 10, SR, 1));
    expect(faults.slice(0, 3).map((f) => f.kind)).toEqual(['knock', 'rub', 'burst']);
    const regions = new Set(faults.map((f) => Math.round(Math.log2(f.f0 / 300))));
    expect(regions.size).toBeGreaterThanOrEqual(4);
    for (const f of faults) {
      expect(f.t0).toBeGreaterThanOrEqual(0.5);
      expect(f.t1).toBeLessThanOrEqual(9.5);
      expect(f.f1).toBeLessThan(0.5 * SR);
    }
  });

  it('are written with their records; the default dataset has neither the records nor a faults setting', async () => {
    const small = { machines: ['fan'], trainSource: 2, trainTarget: 1, testPerGroup: 2, durationSec: 0.5 };
    const loc = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-synthloc-'));
    const plain = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-synthloc-'));
    dirs.push(loc, plain);
    await synthesizeDataset({ ...small, out: loc, faults: 'localised' });
    await synthesizeDataset({ ...small, out: plain });
    const records = JSON.parse(await fsp.readFile(path.join(loc, 'fan', LOCALISED_FAULTS_FILE), 'utf8')) as {
      faults: LocalisedFaultRecord[];
    };
    expect(records.faults.map((r) => path.basename(r.file))).toEqual([
      'section_00_source_test_anomaly_0000_spd_1200_bg_A.wav',
      'section_00_source_test_anomaly_0001_spd_1350_bg_A.wav',
      'section_00_target_test_anomaly_0000_spd_1800_bg_C.wav',
      'section_00_target_test_anomaly_0001_spd_1800_bg_C.wav',
    ]);
    expect(JSON.parse(await fsp.readFile(path.join(loc, SYNTH_MANIFEST), 'utf8'))).toMatchObject({
      faults: 'localised',
    });
    expect(JSON.parse(await fsp.readFile(path.join(plain, SYNTH_MANIFEST), 'utf8'))).not.toHaveProperty('faults');
    await expect(fsp.stat(path.join(plain, 'fan', LOCALISED_FAULTS_FILE))).rejects.toThrow();
    // Normal clips are the same bytes either way; a localised anomaly is not the machine-fault one.
    const normal = 'fan/test/section_00_source_test_normal_0000_spd_1200_bg_A.wav';
    expect(await fsp.readFile(path.join(loc, normal))).toEqual(await fsp.readFile(path.join(plain, normal)));
    const anomaly = `fan/test/${path.basename(records.faults[0]!.file)}`;
    expect(await fsp.readFile(path.join(loc, anomaly))).not.toEqual(await fsp.readFile(path.join(plain, anomaly)));
    // A folder of one kind is not resumed as the other.
    await expect(synthesizeDataset({ ...small, out: plain, faults: 'localised' })).rejects.toThrow(/faults/);
  });
});
