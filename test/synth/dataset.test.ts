import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../worker/src/cli/main';
import { discoverDataset } from '../../worker/src/datasets';
import { GenrepError } from '../../worker/src/errors';
import { SYNTH_MANIFEST, machineModel, synthesizeDataset } from '../../worker/src/synth';
import { genrepRejection } from '../helpers/errors';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-synth-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => fsp.rm(d, { recursive: true, force: true })));
});

/** A small dataset: 3 source + 2 target training clips, 2 per test group, 0.3 s each. */
const SMALL = { machines: ['fan', 'bearing'], trainSource: 3, trainTarget: 2, testPerGroup: 2, durationSec: 0.3 };

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(root, p));
    }
  }
  await walk(root);
  return out.sort();
}

describe('synthesizeDataset', () => {
  it('is deterministic per seed: the same seed gives identical bytes, another seed different audio', async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    await synthesizeDataset({ ...SMALL, out: a, seed: 7 });
    await synthesizeDataset({ ...SMALL, out: b, seed: 7 });
    await synthesizeDataset({ ...SMALL, out: c, seed: 8 });
    const files = await listFiles(a);
    expect(await listFiles(b)).toEqual(files);
    expect(await listFiles(c)).toEqual(files);
    const wavs = files.filter((f) => f.endsWith('.wav'));
    expect(wavs).toHaveLength(2 * (3 + 2 + 4 * 2));
    for (const f of wavs) {
      const bytes = await fsp.readFile(path.join(a, f));
      expect(Buffer.compare(bytes, await fsp.readFile(path.join(b, f))), f).toBe(0);
      expect(Buffer.compare(bytes.subarray(44), (await fsp.readFile(path.join(c, f))).subarray(44)), f).not.toBe(0);
    }
  });

  it("makes each file's audio independent of how many other files are generated", async () => {
    const [small, large] = [await tempDir(), await tempDir()];
    await synthesizeDataset({ ...SMALL, machines: ['pump'], out: small, seed: 3 });
    await synthesizeDataset({
      ...SMALL,
      machines: ['motor', 'pump'],
      trainSource: 5,
      testPerGroup: 3,
      out: large,
      seed: 3,
    });
    for (const f of (await listFiles(small)).filter((n) => n.endsWith('.wav'))) {
      expect(Buffer.compare(await fsp.readFile(path.join(small, f)), await fsp.readFile(path.join(large, f))), f).toBe(
        0,
      );
    }
  });

  it('writes a DCASE 2023 layout that discoverDataset reads back with domains, labels and attributes', async () => {
    const out = await tempDir();
    const result = await synthesizeDataset({ ...SMALL, out, seed: 1 });
    expect(result).toEqual({ machines: ['fan', 'bearing'], files: 26, written: 26, kept: 0 });
    const dataset = await discoverDataset({ root: out });
    expect(dataset.layout).toBe('dcase2023');
    expect(dataset.skipped).toEqual([]);
    expect(dataset.machines.map((m) => m.machineType)).toEqual(['bearing', 'fan']);
    for (const machine of dataset.machines) {
      const model = machineModel(machine.machineType)!;
      expect(machine.train.map((c) => c.domain)).toEqual(['source', 'source', 'source', 'target', 'target']);
      expect(machine.sections).toEqual(['00']);
      const groups = ['source/normal', 'source/anomaly', 'target/normal', 'target/anomaly'].map(
        (g) => machine.test.filter((c) => `${c.domain}/${c.label}` === g).length,
      );
      expect(groups).toEqual([2, 2, 2, 2]);
      for (const c of [...machine.train, ...machine.test]) {
        const conditions = c.domain === 'source' ? model.source : model.target;
        expect(conditions.map((k) => Object.fromEntries(k.attributes))).toContainEqual(c.attributes);
        expect(c.name).toMatch(/^section_00_(source|target)_(train|test)_(normal|anomaly)_\d{4}_/);
      }
    }
    const fan = dataset.machines.find((m) => m.machineType === 'fan')!;
    expect(fan.train.map((c) => c.attributes['spd'])).toEqual(['1200', '1350', '1500', '1800', '1800']);
    const csv = (await fsp.readFile(path.join(out, 'fan', 'attributes_00.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('file_name,d1p,d1v,d2p,d2v');
    expect(csv[1]).toBe('fan/train/section_00_source_train_normal_0000_spd_1200_bg_A.wav,spd,1200,bg,A');
    expect(csv).toHaveLength(1 + 13);
    const header = (await fsp.readFile(path.join(out, fan.train[0]!.path.slice(out.length + 1)))).subarray(0, 44);
    expect(header.readUInt32LE(24)).toBe(16000);
    expect(header.readUInt16LE(22)).toBe(1);
    expect(header.readUInt16LE(34)).toBe(16);
    expect(header.readUInt32LE(40)).toBe(2 * 4800);
  });

  it('resumes an interrupted run, keeping finished files and leaving no temporary files', async () => {
    const out = await tempDir();
    const first = await synthesizeDataset({ ...SMALL, out, seed: 2 });
    const victim = path.join(out, 'fan', 'test', 'section_00_target_test_anomaly_0001_spd_1800_bg_C.wav');
    const original = await fsp.readFile(victim);
    await fsp.rm(victim);
    await fsp.writeFile(
      path.join(out, 'bearing', 'train', 'section_00_source_train_normal_0000_vel_1800_loc_A.wav'),
      'half a file',
    );
    // What a killed writeFileAtomic leaves behind.
    await fsp.writeFile(
      path.join(out, 'fan', 'train', '.section_00_source_train_normal_0002_spd_1500_bg_A.wav.4242.abcdef.tmp'),
      'partial',
    );
    const again = await synthesizeDataset({ ...SMALL, out, seed: 2 });
    expect(again).toEqual({ ...first, written: 2, kept: first.files - 2 });
    expect(Buffer.compare(await fsp.readFile(victim), original)).toBe(0);
    expect((await listFiles(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const manifest: unknown = JSON.parse(await fsp.readFile(path.join(out, SYNTH_MANIFEST), 'utf8'));
    expect(manifest).toMatchObject({ generator: 'genrep-synth', seed: 2, complete: true, files: 26 });
  });

  it('stops between files when cancelled, and the next run finishes the job', async () => {
    const out = await tempDir();
    const controller = new AbortController();
    const err = await synthesizeDataset({
      ...SMALL,
      out,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 5) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CANCELLED' });
    expect((await listFiles(out)).filter((f) => f.endsWith('.wav'))).toHaveLength(5);
    const resumed = await synthesizeDataset({ ...SMALL, out });
    expect(resumed).toMatchObject({ written: 21, kept: 5 });
  });

  it('refuses a folder generated with other settings, a foreign non-empty folder, and bad options', async () => {
    const out = await tempDir();
    await synthesizeDataset({ ...SMALL, machines: ['fan'], out, seed: 4 });
    await expect(synthesizeDataset({ ...SMALL, machines: ['fan'], out, seed: 5 })).rejects.toThrow(
      /other settings \(seed 4 → 5\)/,
    );
    const foreign = await tempDir();
    await fsp.writeFile(path.join(foreign, 'notes.txt'), 'mine');
    await expect(synthesizeDataset({ ...SMALL, out: foreign })).rejects.toThrow(
      /is not empty and holds no genrep-synth\.json/,
    );
    const fresh = await tempDir();
    const unknown = await genrepRejection(synthesizeDataset({ ...SMALL, machines: ['toaster'], out: fresh }));
    expect(unknown).toBeInstanceOf(GenrepError);
    expect(unknown.message).toMatch(/unknown machine type "toaster"; known: fan, pump, gearbox, bearing, motor/);
    await expect(synthesizeDataset({ ...SMALL, out: fresh, trainSource: 0 })).rejects.toThrow(
      /trainSource must be an integer from 1/,
    );
    await expect(synthesizeDataset({ ...SMALL, out: fresh, durationSec: 0 })).rejects.toThrow(
      /durationSec must be between/,
    );
  });
});

describe('genrep synth', () => {
  it('writes the dataset and prints a summary', async () => {
    const out = path.join(await tempDir(), 'set');
    let stdout = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    let code: number;
    try {
      code = await main([
        'node',
        'genrep',
        'synth',
        '--out',
        out,
        '--machines',
        'gearbox',
        '--clips',
        '2,1,1',
        '--duration',
        '0.2',
        '--seed',
        '9',
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    expect(stdout).toMatch(/7 files for gearbox \(7 written, 0 already present\)/);
    const dataset = await discoverDataset({ root: out });
    expect(dataset.machines[0]!.train.map((c) => c.name)).toEqual([
      'section_00_source_train_normal_0000_spd_1500_load_20_bg_A.wav',
      'section_00_source_train_normal_0001_spd_1500_load_50_bg_A.wav',
      'section_00_target_train_normal_0000_spd_1200_load_50_bg_B.wav',
    ]);
  });
});
