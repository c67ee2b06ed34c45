import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import { refuseFindings, validateAgainstDataset } from '../../worker/src/config/validateAgainstDataset';
import { validateConfigWithDataset } from '../../worker/src/server/configDiagnostics';
import type { ConfigDiagnostic } from '../../worker/src/protocol/workerProtocol';
import { closestName } from '../../worker/src/util/closestName';
import { runCli, tempDir } from '../helpers/cli';

/**
 * The semantic checks of a run config against the dataset as discovered (config/validateAgainstDataset.ts), as the
 * editor gets them from genrep/validateConfig and as `genrep run` refuses them before extracting. The datasets are
 * folders of empty, DCASE 2023-named .wav files: discovery reads names only, and a run that got as far as decoding
 * one would fail on it — so a run refused with the config's own error provably stopped before extraction.
 */
const tmp = tempDir('genrep-semantic-');
let root: string;

/** fan: 40 source + 5 target training clips; pump: 12 + 3; two test clips per domain and label each. */
function writeDataset(dir: string, sizes: Record<string, { source: number; target: number }>): void {
  for (const [machine, n] of Object.entries(sizes)) {
    const train = path.join(dir, machine, 'train');
    const test = path.join(dir, machine, 'test');
    mkdirSync(train, { recursive: true });
    mkdirSync(test, { recursive: true });
    const id = (i: number): string => String(i).padStart(4, '0');
    for (const domain of ['source', 'target'] as const) {
      for (let i = 0; i < n[domain]; i++)
        writeFileSync(path.join(train, `section_00_${domain}_train_normal_${id(i)}_a_1.wav`), '');
      for (const label of ['normal', 'anomaly'])
        for (let i = 0; i < 2; i++)
          writeFileSync(path.join(test, `section_00_${domain}_test_${label}_${id(i)}_a_1.wav`), '');
    }
  }
}

beforeAll(() => {
  root = path.join(tmp.dir, 'data');
  writeDataset(root, { fan: { source: 40, target: 5 }, pump: { source: 12, target: 3 } });
});
afterAll(() => tmp.cleanup());

async function check(config: Record<string, unknown>, name = 'c.genrep.json'): Promise<ConfigDiagnostic[]> {
  const text = JSON.stringify({ dataset: { root: 'data' }, embedder: 'fbank-stats', ...config }, null, 2);
  return (await validateConfigWithDataset(text, tmp.file(name))).diagnostics;
}

/** The text a diagnostic underlines. */
function underlined(config: Record<string, unknown>, d: ConfigDiagnostic): string {
  const text = JSON.stringify({ dataset: { root: 'data' }, embedder: 'fbank-stats', ...config }, null, 2);
  const lines = text.split('\n');
  const { start, end } = d.range;
  return start.line === end.line ? (lines[start.line] ?? '').slice(start.character, end.character) : '(multi-line)';
}

describe('K_s and K_n against the banks of the selected machine types', () => {
  it('flags a K_s above the smallest source bank, naming the type and its size, with the fix to that size', async () => {
    const config = { mixup: { K_s: 5000, lambda: 0.9 } };
    const [d, ...rest] = await check(config);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({
      severity: 'error',
      source: 'dataset',
      code: 'bank-too-small',
      pointer: '/mixup/K_s',
      fix: { title: 'Set K_s to 12', pointer: '/mixup/K_s', value: 12 },
    });
    expect(d?.message).toBe(
      '/mixup/K_s: K_s = 5000 is larger than the source bank of pump (12 clips), and of fan (40 clips); use at most 12',
    );
    expect(underlined(config, d!)).toBe('5000');
  });

  it('counts only the machine types the config selects', async () => {
    const config = { dataset: { root: 'data', machineTypes: ['fan'] }, mixup: { K_s: 41, lambda: 0.9 } };
    const [d] = await check(config);
    expect(d?.fix).toEqual({ title: 'Set K_s to 40', pointer: '/mixup/K_s', value: 40 });
    expect(await check({ dataset: { root: 'data', machineTypes: ['fan'] }, mixup: { K_s: 40, lambda: 0.9 } })).toEqual(
      [],
    );
  });

  it("says so when the paper's default K_s (990) is the one too large, at the key the user can change", async () => {
    const [d] = await check({});
    expect(d?.message).toMatch(/^\/: K_s = 990 \(the default\) is larger than the source bank of pump \(12 clips\)/);
    expect(d?.fix).toMatchObject({ pointer: '/mixup/K_s', value: 12 });
  });

  it('flags a K_n above the smallest bank (the target bank, here) and a low-shot k above the training set', async () => {
    const diagnostics = await check({ K_n: 4, mixup: { K_s: 0, lambda: 0.9 }, lowShot: { k: 16 } });
    expect(diagnostics.map((d) => [d.pointer, d.fix?.title])).toEqual([
      ['/K_n', 'Set K_n to 3'],
      ['/lowShot/k', 'Set k to 15'],
    ]);
    expect(diagnostics[0]?.message).toMatch(/smallest memory bank of pump \(3 clips\)/);
  });
});

describe('machine types, layers, the embedder and paths', () => {
  it('names a machine type the dataset lacks, with "did you mean" and the fix', async () => {
    const config = { dataset: { root: 'data', machineTypes: ['fan', 'pmup'] }, mixup: { K_s: 10, lambda: 0.9 } };
    const [d, ...rest] = await check(config);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ pointer: '/dataset/machineTypes/1', code: 'unknown-machine-type' });
    expect(d?.message).toMatch(/no machine type 'pmup' in .*; did you mean 'pump'\? \(found: fan, pump\)/);
    expect(d?.fix).toEqual({ title: "Change to 'pump'", pointer: '/dataset/machineTypes/1', value: 'pump' });
    expect(underlined(config, d!)).toBe('"pmup"');
  });

  it('refuses layers beyond the embedder depth: fbank-stats has 1, a manifest checkpoint its cfg', async () => {
    const base = { mixup: { K_s: 10, lambda: 0.9 } };
    const fbank = await check({ ...base, layers: [1, 2] });
    expect(fbank.map((d) => [d.pointer, d.message, d.fix?.title])).toEqual([
      ['/layers/1', '/layers/1: layer 2 does not exist: fbank-stats has layers 1..1', 'Use layer 1'],
    ]);
    // beats_ft1 is not downloaded here: its depth comes from models/manifest.json, without the weights.
    const beats = (await check({ ...base, embedder: 'beats_ft1', layers: [4, 13] })).filter(
      (d) => d.source === 'model',
    );
    expect(beats.map((d) => d.message)).toEqual(['/layers/1: layer 13 does not exist: beats_ft1 has layers 1..12']);
    const fixed = await check({ ...base, layers: [1], layerSelection: { mode: 'fixed', layer: 4 } });
    expect(fixed.map((d) => [d.pointer, d.fix?.title])).toEqual([['/layerSelection/layer', 'Use layer 1']]);
    // A .pt nobody can inspect without loading it is left to the run.
    writeFileSync(tmp.file('mine.pt'), '');
    expect(await check({ ...base, embedder: './mine.pt', layers: [40] })).toEqual([]);
  });

  it('names an unknown embedder with the closest known one', async () => {
    const [d] = await check({ embedder: 'beats_ft3', mixup: { K_s: 10, lambda: 0.9 } });
    expect(d).toMatchObject({ pointer: '/embedder', source: 'model', fix: { value: 'beats_ft1' } });
    expect(d?.message).toMatch(/unknown embedder 'beats_ft3'; did you mean 'beats_ft1'\?/);
  });

  it('flags a missing dataset root as an error with a create-folder fix, and skips the dataset checks', async () => {
    const diagnostics = await check({ dataset: { root: 'nowhere' }, modelDir: 'models-here' });
    expect(diagnostics.map((d) => [d.pointer, d.severity, d.code, d.fix?.createFolder])).toEqual([
      ['/dataset/root', 'error', 'missing-path', tmp.file('nowhere')],
      ['/modelDir', 'warning', 'missing-path', tmp.file('models-here')],
    ]);
    expect(diagnostics[0]?.fix?.title).toBe(`Create folder ${tmp.file('nowhere')}`);
  });

  it('suggests the key meant for an unknown key, from the schema of the object it is in', async () => {
    const config = { kn: 1, mixup: { K_s: 10, lambda: 0.9, lamda: 1 } };
    const diagnostics = await check(config);
    expect(diagnostics.map((d) => [d.pointer, d.severity, d.message, d.fix])).toEqual([
      [
        '/kn',
        'error',
        "/kn: unknown key 'kn'; did you mean 'K_n'?",
        { title: "Rename to 'K_n'", pointer: '/kn', renameKeyTo: 'K_n' },
      ],
      ['/mixup/lamda', 'error', "/mixup/lamda: unknown key 'lamda'", undefined],
    ]);
    expect(underlined(config, diagnostics[0]!)).toBe('"kn"');
    expect(closestName('colour', ['name', 'pooling', 'K_n'])).toBeUndefined();
  });

  it('reports a duplicate key where the run would refuse it', async () => {
    const text = '{ "dataset": { "root": "data" }, "K_n": 1, "K_n": 2 }';
    const { diagnostics } = await validateConfigWithDataset(text, tmp.file('dup.genrep.json'));
    expect(diagnostics).toEqual([
      expect.objectContaining({ pointer: '/K_n', severity: 'error', code: 'duplicate-key' }),
    ]);
  });
});

describe('genrep run refuses before extracting, with the same words as the editor', () => {
  it('stops at the K_s check, naming file:line:column, and extracts nothing', async () => {
    const file = tmp.file('run.genrep.json');
    const config = {
      dataset: { root: 'data' },
      embedder: 'fbank-stats',
      mixup: { K_s: 5000 },
      cacheDir: 'cache',
      output: 'out',
    };
    writeFileSync(file, JSON.stringify(config, null, 2));
    const editor = (await validateConfigWithDataset(JSON.stringify(config, null, 2), file)).diagnostics;
    const result = await runCli(['run', file, '--quiet']);
    expect(result.code).toBe(1);
    // The editor's message after the position: the run prints "file:line:col: " in front of it.
    const at = editor[0]!.range.start;
    expect(at).toEqual({ line: 6, character: 11 });
    expect(result.stderr).toBe(`genrep: ${file}:${at.line + 1}:${at.character + 1}: ${editor[0]?.message}\n`);
    const cache = tmp.file('cache');
    const entries = existsSync(cache) ? readdirSync(cache, { recursive: true }).map(String) : [];
    expect(entries.filter((e) => e.endsWith('.f32') || e.endsWith('.npy') || e.endsWith('.bin'))).toEqual([]);
    expect(existsSync(tmp.file('out'))).toBe(false);
  });

  it('lists every problem at its own place, and keeps a missing dataset root NOT_FOUND', async () => {
    const file = tmp.file('two.genrep.json');
    const config = { dataset: { root: 'data', machineTypes: ['fan', 'pmup'] }, mixup: { K_s: 5000 }, output: 'out2' };
    writeFileSync(file, JSON.stringify(config, null, 2));
    const result = await runCli(['run', file, '--quiet']);
    // The CLI keeps an error on one line: the list's line breaks are printed as \n.
    expect(result.stderr.trimEnd().split('\\n  ')).toEqual([
      `genrep: ${file}: 2 problems:`,
      expect.stringMatching(/two\.genrep\.json:6:\d+: \/dataset\/machineTypes\/1: no machine type 'pmup'/),
      expect.stringMatching(
        /two\.genrep\.json:10:\d+: \/mixup\/K_s: K_s = 5000 is larger than the source bank of fan \(40/,
      ),
    ]);
    const missing = tmp.file('missing.genrep.json');
    writeFileSync(missing, JSON.stringify({ dataset: { root: 'gone' } }));
    await expect(
      validateAgainstDataset(
        { ...parseRunConfig(JSON.stringify({ dataset: { root: 'gone' } }), missing).config },
        { file: missing, written: () => true },
      ).then((f) => refuseFindings(f, missing, () => `${missing}:1:1`)),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', data: { field: '/dataset/root' } });
  });
});
