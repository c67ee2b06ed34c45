import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Dataset, discoverDataset } from '../../worker/src/datasets';
import { pad, range, removeTempDirs, tempDir, tinyWavTree } from './tinyWav';
import { genrepRejection as failure } from '../helpers/errors';

afterAll(removeTempDirs);

const DEV_NAMES = readFileSync(path.join(__dirname, '..', 'fixtures', 'datasets', 'dcase2023-dev-names.txt'), 'utf8')
  .trim()
  .split('\n');

/** A small DCASE 2023 dev-style machine type: 4 source + 2 target train clips, 2 clips per test group. */
function dcaseDevFiles(type: string, attrs = 'spd_1'): string[] {
  const files: string[] = [];
  for (const i of range(2)) files.push(`${type}/train/section_00_target_train_normal_${pad(i, 4)}_${attrs}.wav`);
  for (const i of range(4)) files.push(`${type}/train/section_00_source_train_normal_${pad(i, 4)}_${attrs}.wav`);
  for (const domain of ['source', 'target']) {
    for (const label of ['normal', 'anomaly'])
      for (const i of range(2)) files.push(`${type}/test/section_00_${domain}_test_${label}_${pad(i, 4)}_${attrs}.wav`);
  }
  return files;
}

describe('DCASE 2023 dev layout', () => {
  it('parses real dev names into domains, labels and attributes', async () => {
    const root = await tinyWavTree(
      'dev2023',
      DEV_NAMES.map((line) => {
        const m = /^(\w+?)_(train|test)_(section_.*)$/.exec(line)!;
        return `${m[1]}/${m[2]}/${m[3]}`;
      }),
    );
    // The sample holds one-class test sets (ToyCar: normals only), so only a scoring-only run accepts it.
    const err = await failure(discoverDataset({ root }));
    expect(err.message).toMatch(/ToyCar: the test set of ToyCar holds only normal clips \(2\)/);
    const dataset = await discoverDataset({ root, scoringOnly: true });
    expect(dataset.layout).toBe('dcase2023');
    expect(dataset.machines.map((m) => m.machineType)).toEqual([
      'ToyCar',
      'ToyTrain',
      'bearing',
      'fan',
      'gearbox',
      'slider',
      'valve',
    ]);
    const fan = dataset.machines.find((m) => m.machineType === 'fan')!;
    expect(fan.train.map((c) => c.name)).toEqual([
      'section_00_source_train_normal_0040_m-n_X.wav',
      'section_00_source_train_normal_0397_m-n_X.wav',
    ]);
    expect(fan.test.map((c) => [c.domain, c.label, c.attributes['m-n']])).toEqual([
      ['source', 'anomaly', 'W'],
      ['target', 'normal', 'Y'],
    ]);
    const gearbox = dataset.machines.find((m) => m.machineType === 'gearbox')!;
    expect(gearbox.test.find((c) => c.label === 'anomaly')).toMatchObject({
      domain: 'target',
      attributes: { volt: '1.5', wt: '130' },
      section: '00',
      split: 'test',
    });
    expect(path.isAbsolute(gearbox.train[0]!.path)).toBe(true);
  });

  it('orders training clips source first, then target, each by name', async () => {
    const root = await tinyWavTree('order', dcaseDevFiles('valve'));
    const [valve] = (await discoverDataset({ root })).machines;
    expect(valve!.train.map((c) => c.name)).toEqual([
      ...range(4).map((i) => `section_00_source_train_normal_${pad(i, 4)}_spd_1.wav`),
      ...range(2).map((i) => `section_00_target_train_normal_${pad(i, 4)}_spd_1.wav`),
    ]);
    expect(valve!.test.map((c) => `${c.domain}/${c.label}`)).toEqual([
      'source/anomaly',
      'source/anomaly',
      'source/normal',
      'source/normal',
      'target/anomaly',
      'target/anomaly',
      'target/normal',
      'target/normal',
    ]);
    expect(valve!.sections).toEqual(['00']);
  });

  it('merges attributes_00.csv into the attributes from the name', async () => {
    const root = await tinyWavTree('attrcsv', dcaseDevFiles('pump'));
    await fsp.writeFile(
      path.join(root, 'pump', 'attributes_00.csv'),
      'file_name,d1p,d1v,d2p,d2v\npump/train/section_00_source_train_normal_0000_spd_1.wav,spd,1,load_kind,heavy_duty\n',
    );
    const [pump] = (await discoverDataset({ root, layout: 'dcase2023' })).machines;
    expect(pump!.train[0]!.attributes).toEqual({ spd: '1', load_kind: 'heavy_duty' });
    expect(pump!.train[1]!.attributes).toEqual({ spd: '1' });
  });

  it('filters machine types and sections, and names the ones that do not exist', async () => {
    const root = await tinyWavTree('filter', [...dcaseDevFiles('fan'), ...dcaseDevFiles('pump')]);
    const only = await discoverDataset({ root, machineTypes: ['pump'], sections: ['00'] });
    expect(only.machines.map((m) => m.machineType)).toEqual(['pump']);
    const noType = await failure(discoverDataset({ root, machineTypes: ['pump', 'drill'] }));
    expect(noType).toMatchObject({ code: 'NOT_FOUND', data: { field: 'machineTypes' } });
    expect(noType.message).toMatch(/no machine type "drill"; found fan, pump/);
    const noSection = await failure(discoverDataset({ root, sections: ['03'] }));
    expect(noSection.message).toMatch(/no section 03; found 00/);
  });

  it('accepts a root that is itself one machine type folder', async () => {
    const root = await tinyWavTree(
      'single',
      dcaseDevFiles('slider').map((f) => f.replace(/^slider\//, 'slider/')),
    );
    const dataset = await discoverDataset({ root: path.join(root, 'slider') });
    expect(dataset.machines.map((m) => [m.machineType, m.train.length, m.test.length])).toEqual([['slider', 6, 8]]);
  });
});

describe('DCASE 2020 layout', () => {
  it('uses machine IDs as sections and carries no domain', async () => {
    const files: string[] = [];
    for (const id of ['00', '02']) {
      for (const i of range(3)) files.push(`fan/train/normal_id_${id}_${pad(i, 8)}.wav`);
      for (const i of range(2))
        files.push(`fan/test/normal_id_${id}_${pad(i, 8)}.wav`, `fan/test/anomaly_id_${id}_${pad(i, 8)}.wav`);
    }
    const root = await tinyWavTree('dcase2020', files);
    const dataset = await discoverDataset({ root });
    expect(dataset.layout).toBe('dcase2020');
    const [fan] = dataset.machines;
    expect(fan!.sections).toEqual(['00', '02']);
    expect(fan!.train.map((c) => c.section)).toEqual(['00', '00', '00', '02', '02', '02']);
    expect(fan!.test.every((c) => c.domain === undefined)).toBe(true);
    expect(fan!.test.filter((c) => c.label === 'anomaly').map((c) => c.name)).toEqual([
      'anomaly_id_00_00000000.wav',
      'anomaly_id_00_00000001.wav',
      'anomaly_id_02_00000000.wav',
      'anomaly_id_02_00000001.wav',
    ]);
    const sectionTwo = await discoverDataset({ root, sections: ['02'] });
    expect(sectionTwo.machines[0]!.train).toHaveLength(3);
  });

  it('labels eval files id_XX_… from an eval_data_list CSV', async () => {
    const root = await tinyWavTree('dcase2020eval', [
      'ToyCar/train/normal_id_05_00000000.wav',
      'ToyCar/test/id_05_00000000.wav',
      'ToyCar/test/id_05_00000001.wav',
    ]);
    const list = path.join(root, 'eval_data_list_2020.csv');
    await fsp.writeFile(
      list,
      'ToyCar\nid_05_00000000.wav,anomaly_id_05_00000000.wav,1\nid_05_00000001.wav,normal_id_05_00000001.wav,0\n',
    );
    const dataset = await discoverDataset({ root, groundTruthDir: list });
    expect(dataset.machines[0]!.test.map((c) => [c.name, c.label, c.section])).toEqual([
      ['id_05_00000000.wav', 'anomaly', '05'],
      ['id_05_00000001.wav', 'normal', '05'],
    ]);
  });
});

describe('generic layout', () => {
  it('reads train/, train/{source,target}/ and test/{source,target}/{normal,anomaly}/ in either nesting', async () => {
    const root = await tinyWavTree('generic', [
      'drill/train/source/b.wav',
      'drill/train/source/a.wav',
      'drill/train/target/c.wav',
      'drill/test/source/normal/n1.wav',
      'drill/test/anomaly/target/x1.wav',
      'drill/test/normal/t1.wav',
      'saw/train/one.wav',
      'saw/test/normal/n.wav',
      'saw/test/anomaly/a.wav',
    ]);
    const dataset = await discoverDataset({ root });
    expect(dataset.layout).toBe('generic');
    const [drill, saw] = dataset.machines;
    expect(drill!.train.map((c) => [c.name, c.domain])).toEqual([
      ['a.wav', 'source'],
      ['b.wav', 'source'],
      ['c.wav', 'target'],
    ]);
    expect(drill!.test.map((c) => [c.name, c.domain, c.label])).toEqual([
      ['x1.wav', 'target', 'anomaly'],
      ['t1.wav', undefined, 'normal'],
      ['n1.wav', 'source', 'normal'],
    ]);
    expect(saw!.train[0]).toMatchObject({ domain: undefined, label: 'normal', section: '00' });
  });
});

describe('explicit file lists', () => {
  it('takes the listed files, filling fields from DCASE names', async () => {
    const onDisk = ['a/one.wav', 'a/two.wav', 'b/section_00_target_test_anomaly_0001_spd_3.wav'];
    const root = await tinyWavTree('list', onDisk);
    const dataset = await discoverDataset({
      root,
      files: [
        { path: 'a/one.wav', machineType: 'm', split: 'train', domain: 'source' },
        { path: path.join(root, 'a/two.wav'), machineType: 'm', split: 'test', label: 'normal' },
        { path: 'b/section_00_target_test_anomaly_0001_spd_3.wav', machineType: 'm', split: 'test' },
      ],
    });
    expect(dataset.layout).toBe('files');
    const [m] = dataset.machines;
    expect(m!.train.map((c) => [c.name, c.domain, c.label])).toEqual([['one.wav', 'source', 'normal']]);
    expect(m!.test.map((c) => [c.name, c.domain, c.label, c.attributes])).toEqual([
      ['two.wav', undefined, 'normal', {}],
      ['section_00_target_test_anomaly_0001_spd_3.wav', 'target', 'anomaly', { spd: '3' }],
    ]);
  });

  it('refuses paths that escape the root and files that do not exist', async () => {
    const root = await tinyWavTree('list-bad', ['in/a.wav']);
    const escape = await failure(
      discoverDataset({ root, files: [{ path: '../outside.wav', machineType: 'm', split: 'train' }] }),
    );
    expect(escape).toMatchObject({ code: 'UNSAFE', data: { field: 'files[0].path' } });
    const missing = await failure(
      discoverDataset({ root, files: [{ path: 'in/b.wav', machineType: 'm', split: 'train' }] }),
    );
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    expect(missing.message).toMatch(/in\/b\.wav: files\[0\] not found/);
    const unlabelled = await failure(
      discoverDataset({
        root,
        files: [
          { path: 'in/a.wav', machineType: 'm', split: 'train' },
          { path: 'in/a.wav', machineType: 'm', split: 'test' },
        ],
      }),
    );
    expect(unlabelled.message).toMatch(/files\[1\] is a test clip without a label/);
  });
});

describe('bad input', () => {
  it('a dataset root that does not exist', async () => {
    const root = await tempDir('missing');
    const err = await failure(discoverDataset({ root: path.join(root, 'nothing') }));
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect(err.message).toMatch(/nothing: dataset root not found/);
  });

  it('a root that holds no machine type', async () => {
    const root = await tempDir('empty');
    await fsp.mkdir(path.join(root, 'notes'));
    await fsp.writeFile(path.join(root, 'readme.txt'), 'x');
    const err = await failure(discoverDataset({ root }));
    expect(err.message).toMatch(/holds no machine type/);
  });

  it('a machine type without training clips', async () => {
    const root = await tinyWavTree('notrain', [
      ...dcaseDevFiles('fan'),
      ...dcaseDevFiles('pump').filter((f) => !f.includes('/train/')),
    ]);
    const err = await failure(discoverDataset({ root }));
    expect(err.message).toMatch(/pump: machine type pump has no training clips/);
  });

  it('a one-class test set, accepted only for scoring-only runs', async () => {
    const root = await tinyWavTree(
      'oneclass',
      dcaseDevFiles('fan').filter((f) => !f.includes('anomaly')),
    );
    const err = await failure(discoverDataset({ root }));
    expect(err.message).toMatch(/the test set of fan holds only normal clips \(4\); AUC needs both classes/);
    const scored = await discoverDataset({ root, scoringOnly: true });
    expect(scored.machines[0]!.test).toHaveLength(4);
  });

  it('a file that fits no rule is named, and skipped only when asked', async () => {
    const root = await tinyWavTree('unrecognised', [
      ...dcaseDevFiles('fan'),
      'fan/train/recording_17.wav',
      'fan/test/section_00_source_train_normal_0099_spd_1.wav',
    ]);
    const err = await failure(discoverDataset({ root }));
    expect(err).toMatchObject({ code: 'BAD_INPUT', data: { field: 'skipUnrecognised' } });
    expect(err.message).toContain(path.join(root, 'fan', 'train', 'recording_17.wav'));
    expect(err.message).toMatch(/name does not fit the dcase2023 layout/);
    expect(err.message).toMatch(
      /section_00_source_train_normal_0099_spd_1\.wav \(name says train but the file is in test\/\)/,
    );
    const dataset = await discoverDataset({ root, skipUnrecognised: true });
    expect(dataset.skipped.map((s) => path.basename(s.path))).toEqual([
      'recording_17.wav',
      'section_00_source_train_normal_0099_spd_1.wav',
    ]);
    expect(dataset.machines[0]!.train).toHaveLength(6);
  });

  it('a symbolic link leading out of the root is refused, or skipped when asked', async () => {
    const outside = await tinyWavTree('outside', ['secret.wav']);
    const root = await tinyWavTree('links', dcaseDevFiles('fan'));
    await fsp.symlink(
      path.join(outside, 'secret.wav'),
      path.join(root, 'fan', 'train', 'section_00_source_train_normal_0099_spd_1.wav'),
    );
    const err = await failure(discoverDataset({ root }));
    expect(err).toMatchObject({ code: 'UNSAFE' });
    expect(err.message).toMatch(/refused: a symbolic link to .*secret\.wav, outside the dataset root/);
    const dataset: Dataset = await discoverDataset({ root, skipUnrecognised: true });
    expect(dataset.skipped).toHaveLength(1);
    expect(dataset.machines[0]!.train.map((c) => c.name)).not.toContain(
      'section_00_source_train_normal_0099_spd_1.wav',
    );
  });

  it('machine types in different layouts must be told which layout to use', async () => {
    const root = await tinyWavTree('mixed', [
      ...dcaseDevFiles('fan'),
      'pump/train/normal_id_00_00000000.wav',
      'pump/test/normal_id_00_00000000.wav',
      'pump/test/anomaly_id_00_00000000.wav',
    ]);
    const err = await failure(discoverDataset({ root }));
    expect(err.message).toMatch(/different layouts: dcase2023 \(fan\); dcase2020 \(pump\); set the layout explicitly/);
  });
});
