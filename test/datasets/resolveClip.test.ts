import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverDataset, resolveClip, resolveClips } from '../../worker/src/datasets';
import { removeTempDirs, tempDir, writeTinyWavs } from './tinyWav';

afterAll(removeTempDirs);

const D2023 = 'section_00_source_test_anomaly_0001_spd_28V.wav';
const D2023_TRAIN = 'section_01_target_train_normal_0003_car_A2.wav';
const D2020 = 'anomaly_id_02_00000007.wav';

let base: string;
beforeAll(async () => {
  base = await tempDir('resolve-');
  await writeTinyWavs(base, [
    `dev2023/fan/test/${D2023}`,
    `dev2023/pump/train/${D2023_TRAIN}`,
    `dev2023/pump/test/section_01_1234.wav`,
    `dev2020/valve/test/${D2020}`,
    `dev2020/valve/train/normal_id_04_00000001.wav`,
    'generic/gearbox/train/target/normal/take1.wav',
    'generic/gearbox/test/anomaly/rattle.wav',
    'oneType/train/source/a.wav',
    'elsewhere/slider/test/anomaly/hit.wav',
    `elsewhere/ToyCar/test/${D2023}`,
    'elsewhere/recordings/take.wav',
    `elsewhere/loose/${D2023}`,
    'dev2023/fan/notes/extra.wav',
  ]);
});

describe('resolving a file against the dataset roots', () => {
  it('reads DCASE 2023 clips: machine type from the folder, section, domain and split from the name', async () => {
    const root = path.join(base, 'dev2023');
    const test = await resolveClip(path.join(root, 'fan', 'test', D2023), [root]);
    expect(test).toMatchObject({
      how: 'dataset',
      root,
      machineType: 'fan',
      section: '00',
      domain: 'source',
      split: 'test',
    });
    expect(test.reason).toMatch(
      /in dataset root .*dev2023: machine type fan from its folder, the rest from the DCASE 2023 file name/,
    );
    const train = await resolveClip(path.join(root, 'pump', 'train', D2023_TRAIN), [root]);
    expect(train).toMatchObject({ machineType: 'pump', section: '01', domain: 'target', split: 'train' });
    const evalClip = await resolveClip(path.join(root, 'pump', 'test', 'section_01_1234.wav'), [root]);
    expect(evalClip).toMatchObject({ how: 'dataset', machineType: 'pump', section: '01', domain: null, split: 'test' });
  });

  it('agrees with discovery on every clip of a DCASE 2020 dataset (machine ID as section, no domain)', async () => {
    const root = path.join(base, 'dev2020');
    const dataset = await discoverDataset({ root, scoringOnly: true });
    const clips = dataset.machines.flatMap((m) => [...m.train, ...m.test]);
    expect(clips).toHaveLength(2);
    const resolved = await resolveClips(
      clips.map((c) => c.path),
      [root],
    );
    resolved.forEach((r, i) => {
      const clip = clips[i]!;
      expect(r).toMatchObject({
        how: 'dataset',
        machineType: clip.machineType,
        section: clip.section,
        split: clip.split,
        domain: null,
      });
    });
  });

  it('reads the generic layout: section "00", domain from a source/ or target/ folder', async () => {
    const root = path.join(base, 'generic');
    expect(
      await resolveClip(path.join(root, 'gearbox', 'train', 'target', 'normal', 'take1.wav'), [root]),
    ).toMatchObject({ how: 'dataset', machineType: 'gearbox', section: '00', domain: 'target', split: 'train' });
    expect(await resolveClip(path.join(root, 'gearbox', 'test', 'anomaly', 'rattle.wav'), [root])).toMatchObject({
      how: 'dataset',
      machineType: 'gearbox',
      domain: null,
      split: 'test',
    });
  });

  it('takes a root that holds train/ itself as one machine type named after the folder', async () => {
    const root = path.join(base, 'oneType');
    expect(await resolveClip(path.join(root, 'train', 'source', 'a.wav'), [root])).toMatchObject({
      how: 'dataset',
      root,
      machineType: 'oneType',
      domain: 'source',
      split: 'train',
    });
  });

  it('resolves relative files and roots against the working folder', async () => {
    const r = await resolveClip(path.join('fan', 'test', D2023), ['.'], { cwd: path.join(base, 'dev2023') });
    expect(r).toMatchObject({ path: path.join(base, 'dev2023', 'fan', 'test', D2023), how: 'dataset' });
    expect(r.machineType).toBe('fan');
    expect(r.root).toBe(path.join(base, 'dev2023'));
  });

  it('picks the deepest of nested roots that agree', async () => {
    const outer = path.join(base, 'dev2023');
    const inner = path.join(outer, 'fan');
    const r = await resolveClip(path.join(inner, 'test', D2023), [outer, inner]);
    expect(r).toMatchObject({ how: 'dataset', root: inner, machineType: 'fan' });
  });

  it('follows a symbolic link to a root or to the file, and calls a linked type folder ambiguous', async () => {
    const real = path.join(base, 'dev2023');
    const linkRoot = path.join(base, 'linked-root');
    await fsp.symlink(real, linkRoot);
    // The root as a link, the file by its real path, and the other way round.
    expect(await resolveClip(path.join(real, 'fan', 'test', D2023), [linkRoot])).toMatchObject({
      how: 'dataset',
      root: linkRoot,
      machineType: 'fan',
    });
    expect(await resolveClip(path.join(linkRoot, 'pump', 'train', D2023_TRAIN), [real])).toMatchObject({
      how: 'dataset',
      machineType: 'pump',
    });
    // A link from one file outside every root into a dataset: resolved through its target.
    const linkedFile = path.join(base, 'picked.wav');
    await fsp.symlink(path.join(real, 'fan', 'test', D2023), linkedFile);
    expect(await resolveClip(linkedFile, [real])).toMatchObject({ how: 'dataset', machineType: 'fan', section: '00' });
    // blower/ is a link to fan/: discovery lists its clips under both names, so the type cannot be told.
    await fsp.symlink(path.join(real, 'fan'), path.join(real, 'blower'));
    const ambiguous = await resolveClip(path.join(real, 'blower', 'test', D2023), [real]);
    expect(ambiguous).toMatchObject({ how: 'ambiguous', machineType: null, root: null, section: '00' });
    expect(ambiguous.candidates?.map((c) => c.machineType).sort()).toEqual(['blower', 'fan']);
    expect(ambiguous.reason).toMatch(/ambiguous: the dataset roots give (blower|fan) \(under .*\), (fan|blower)/);
    await fsp.unlink(path.join(real, 'blower'));
  });

  it('falls back to the folder above train/ or test/ and the DCASE names outside every root', async () => {
    const other = path.join(base, 'dev2023');
    const generic = await resolveClip(path.join(base, 'elsewhere', 'slider', 'test', 'anomaly', 'hit.wav'), [other]);
    expect(generic).toMatchObject({
      how: 'file-name',
      root: null,
      machineType: 'slider',
      section: '00',
      split: 'test',
    });
    expect(generic.reason).toMatch(/^outside every dataset root: machine type slider from the folder above test\//);
    const dcase = await resolveClip(path.join(base, 'elsewhere', 'ToyCar', 'test', D2023), []);
    expect(dcase).toMatchObject({
      how: 'file-name',
      machineType: 'ToyCar',
      section: '00',
      domain: 'source',
      split: 'test',
    });
    expect(dcase.reason).toMatch(/the rest from the DCASE 2023 file name/);
    // A file that does not exist is resolved from its path all the same.
    expect(await resolveClip('/nowhere/bearing/train/normal_id_03_00000000.wav', [])).toMatchObject({
      how: 'file-name',
      machineType: 'bearing',
      section: '03',
      split: 'train',
    });
  });

  it('says "unknown" (keeping what the name gives) when no folder names a machine type', async () => {
    const loose = await resolveClip(path.join(base, 'elsewhere', 'loose', D2023), []);
    expect(loose).toMatchObject({ how: 'unknown', machineType: null, section: '00', domain: 'source', split: 'test' });
    expect(loose.reason).toMatch(
      /outside every dataset root and not in a <machine type>\/train\/ or \/test\/ folder \(section 00 from the DCASE 2023 file name\)/,
    );
    const plain = await resolveClip(path.join(base, 'elsewhere', 'recordings', 'take.wav'), []);
    expect(plain).toMatchObject({ how: 'unknown', machineType: null, section: null, domain: null, split: null });
    // Inside a root but not where a clip would be.
    const root = path.join(base, 'dev2023');
    const stray = await resolveClip(path.join(root, 'fan', 'notes', 'extra.wav'), [root]);
    expect(stray.how).toBe('unknown');
    expect(stray.reason).toMatch(/in dataset root .*dev2023 but not in a <machine type>/);
  });
});
