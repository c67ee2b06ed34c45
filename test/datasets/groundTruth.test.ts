import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverDataset, readGroundTruth } from '../../worker/src/datasets';
import { GenrepError } from '../../worker/src/errors';
import { genrepRejection } from '../helpers/errors';
import { pad, range, removeTempDirs, tempDir, tinyWavTree } from './tinyWav';

afterAll(removeTempDirs);

const GROUND_TRUTH = path.join(__dirname, '..', 'fixtures', 'datasets', 'dcase2023t2-eval-ground-truth');
const EVAL_TYPES = ['ToyDrone', 'ToyNscale', 'ToyTank', 'Vacuum', 'bandsaw', 'grinder', 'shaker'];
/** normal-source / anomaly-source / normal-target / anomaly-target, from the DCASE 2023 evaluator's CSVs. */
const EXPECTED_COUNTS: Record<string, [number, number, number, number]> = {
  ToyDrone: [50, 50, 50, 50],
  ToyNscale: [50, 50, 50, 50],
  ToyTank: [50, 50, 50, 50],
  Vacuum: [50, 50, 50, 50],
  bandsaw: [67, 40, 60, 33],
  grinder: [107, 27, 36, 30],
  shaker: [49, 53, 52, 46],
};

describe('readGroundTruth (DCASE 2023 evaluator folders)', () => {
  it('reads labels, domains and renamed names for the 7 eval machine types', async () => {
    const truth = await readGroundTruth(GROUND_TRUTH);
    expect([...truth.keys()].sort()).toEqual([...EVAL_TYPES].sort());
    for (const type of EVAL_TYPES) {
      const entries = truth.get(type)!.get('00')!;
      expect(entries.size).toBe(200);
      const counts = [0, 0, 0, 0];
      for (const e of entries.values()) counts[(e.domain ?? 9) * 2 + e.label]! += 1;
      expect(counts, type).toEqual(EXPECTED_COUNTS[type]);
    }
    const bandsaw = truth.get('bandsaw')!.get('00')!;
    expect(bandsaw.get('section_00_0000.wav')).toEqual({
      label: 0,
      domain: 1,
      renamed: 'section_00_target_test_normal_0000_vel_12',
    });
    expect(bandsaw.get('section_00_0001.wav')).toEqual({
      label: 1,
      domain: 1,
      renamed: 'section_00_target_test_anomaly_0001_vel_12',
    });
  });

  it('agrees with the label and domain each renamed name states', async () => {
    const truth = await readGroundTruth(GROUND_TRUTH);
    for (const sections of truth.values()) {
      for (const e of sections.get('00')!.values()) {
        expect(e.renamed).toMatch(e.label === 1 ? /_anomaly_/ : /_normal_/);
        expect(e.renamed).toMatch(e.domain === 1 ? /_target_/ : /_source_/);
      }
    }
  });

  it('reports a malformed label with file and line', async () => {
    const dir = await tempDir('gt-bad');
    await fsp.mkdir(path.join(dir, 'ground_truth_data'));
    await fsp.writeFile(
      path.join(dir, 'ground_truth_data', 'ground_truth_fan_section_00_test.csv'),
      'section_00_0000.wav,0\nsection_00_0001.wav,maybe\n',
    );
    const err = await readGroundTruth(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenrepError);
    expect((err as GenrepError).message).toMatch(
      /ground_truth_fan_section_00_test\.csv: line 2: label .* must be 0 or 1, got "maybe"/,
    );
  });

  it('refuses a folder without ground truth and a missing folder', async () => {
    const dir = await tempDir('gt-empty');
    await expect(readGroundTruth(dir)).rejects.toThrow(/holds no ground truth/);
    await expect(readGroundTruth(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reads an eval_data_list CSV (DCASE baseline format) with and without a label column', async () => {
    const dir = await tempDir('gt-list');
    const file = path.join(dir, 'eval_data_list_2020.csv');
    await fsp.writeFile(
      file,
      [
        'ToyCar',
        'id_05_00000000.wav,anomaly_id_05_00000000.wav,1',
        'id_05_00000001.wav,normal_id_05_00000001.wav,0',
        'fan',
        'section_00_0000.wav,section_00_target_test_normal_0000_m-n_W.wav',
      ].join('\n'),
    );
    const truth = await readGroundTruth(dir);
    expect(truth.get('ToyCar')!.get('05')!.get('id_05_00000000.wav')).toEqual({
      label: 1,
      renamed: 'anomaly_id_05_00000000',
    });
    expect(truth.get('ToyCar')!.get('05')!.get('id_05_00000001.wav')!.label).toBe(0);
    expect(truth.get('fan')!.get('00')!.get('section_00_0000.wav')).toEqual({
      label: 0,
      domain: 1,
      renamed: 'section_00_target_test_normal_0000_m-n_W',
    });
  });
});

describe('an eval-layout folder labelled by the DCASE 2023 ground truth', () => {
  it('labels every eval test clip with the evaluator counts', async () => {
    const files: string[] = [];
    for (const type of EVAL_TYPES) {
      for (const i of range(3)) files.push(`${type}/train/section_00_source_train_normal_${pad(i, 4)}_a_${i}.wav`);
      for (const i of range(2)) files.push(`${type}/train/section_00_target_train_normal_${pad(i, 4)}_a_9.wav`);
      for (const i of range(200)) files.push(`${type}/test/section_00_${pad(i, 4)}.wav`);
    }
    const root = await tinyWavTree('eval2023', files);
    const dataset = await discoverDataset({ root, groundTruthDir: GROUND_TRUTH });
    expect(dataset.layout).toBe('dcase2023');
    expect(dataset.machines.map((m) => m.machineType)).toEqual(EVAL_TYPES);
    for (const machine of dataset.machines) {
      expect(machine.train.map((c) => c.domain)).toEqual(['source', 'source', 'source', 'target', 'target']);
      expect(machine.test).toHaveLength(200);
      expect(machine.test.map((c) => c.name)).toEqual(range(200).map((i) => `section_00_${pad(i, 4)}.wav`));
      const count = (domain: string, label: string): number =>
        machine.test.filter((c) => c.domain === domain && c.label === label).length;
      expect(
        [count('source', 'normal'), count('source', 'anomaly'), count('target', 'normal'), count('target', 'anomaly')],
        machine.machineType,
      ).toEqual(EXPECTED_COUNTS[machine.machineType]);
    }
    const bandsaw = dataset.machines.find((m) => m.machineType === 'bandsaw')!;
    expect(bandsaw.test[0]).toMatchObject({
      label: 'normal',
      domain: 'target',
      attributes: { vel: '12' },
      originalName: 'section_00_target_test_normal_0000_vel_12',
    });
    const grinder = dataset.machines.find((m) => m.machineType === 'grinder')!;
    expect(grinder.test[0]!.attributes).toEqual({ grindstone: '2', plate: '2' });
  });

  it('says which file, machine type and CSV are missing when the ground truth is absent', async () => {
    const root = await tinyWavTree('eval-nogt', [
      'fan/train/section_00_source_train_normal_0000_x_1.wav',
      'fan/test/section_00_0000.wav',
      'fan/test/section_00_0001.wav',
    ]);
    const noDir = await genrepRejection(discoverDataset({ root }));
    expect(noDir).toBeInstanceOf(GenrepError);
    expect(noDir.message).toContain(path.join('fan', 'test', 'section_00_0000.wav'));
    expect(noDir.message).toMatch(
      /eval test file without a label \(and 1 more of fan\): give groundTruthDir.*ground_truth_fan_section_00_test\.csv/,
    );

    const noType = await genrepRejection(discoverDataset({ root, groundTruthDir: GROUND_TRUTH }));
    expect(noType).toMatchObject({ code: 'NOT_FOUND' });
    expect(noType.message).toContain(
      `looked for ${path.join(GROUND_TRUTH, 'ground_truth_data', 'ground_truth_fan_section_00_test.csv')}`,
    );

    const scored = await discoverDataset({ root, scoringOnly: true });
    expect(scored.machines[0]!.test.map((c) => c.label)).toEqual([undefined, undefined]);
  });

  it('names an eval file the CSV does not list', async () => {
    const root = await tinyWavTree('eval-unlisted', [
      'bandsaw/train/section_00_source_train_normal_0000_vel_1.wav',
      'bandsaw/test/section_00_0000.wav',
      'bandsaw/test/section_00_0999.wav',
    ]);
    const err = await genrepRejection(discoverDataset({ root, groundTruthDir: GROUND_TRUTH }));
    expect(err.message).toMatch(
      /section_00_0999\.wav: eval test file without a label: not listed in the ground truth for bandsaw section 00/,
    );
  });
});
