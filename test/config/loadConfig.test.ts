import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRunConfig, parseRunConfig } from '../../worker/src/config/loadConfig';

describe('run config loading', () => {
  it('fills the schema defaults and resolves paths against the config folder', () => {
    const { config } = parseRunConfig('{ "dataset": { "root": "data" } }', '/work/exp/a.genrep.json');
    expect(config.dataset.root).toBe('/work/exp/data');
    expect(config.embedder).toBe('fbank-stats');
    expect(config.layers).toBe('all');
    expect(config.pooling).toBe('temporal');
    expect(config.K_n).toBe(1);
    expect(config.mixup).toEqual({ K_s: 990, lambda: 0.9 });
    expect(config.dn).toBe('transductive');
    expect(config.layerSelection).toBe('oracle');
    expect(config.output).toBe('/work/exp/genrep-results');
  });

  it('accepts comments and trailing commas, as the editor template has them', () => {
    const { config } = parseRunConfig('{\n // the data\n "dataset": { "root": "/d", },\n "K_n": 3,\n}', 'c.json');
    expect(config.K_n).toBe(3);
  });

  it('reports a wrong type with file:line:column and the JSON pointer', () => {
    const text = '{\n  "dataset": { "root": "/d" },\n  "K_n": "one"\n}';
    expect(() => parseRunConfig(text, 'run.genrep.json')).toThrow(/^run\.genrep\.json:3:10: \/K_n: must be integer$/);
  });

  it('reports an unknown key at the key itself', () => {
    const text = '{\n  "dataset": { "root": "/d" },\n  "kn": 1\n}';
    expect(() => parseRunConfig(text, 'run.json')).toThrow(/run\.json:3:3: \/kn: unknown key 'kn'/);
  });

  it('reports an impossible value and an enum mismatch together', () => {
    const text = '{ "dataset": { "root": "/d" }, "mixup": { "K_s": -1 }, "pooling": "median" }';
    try {
      parseRunConfig(text, 'r.json');
      expect.unreachable();
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toMatch(/2 problems/);
      expect(msg).toMatch(/\/mixup\/K_s: must be >= 0/);
      expect(msg).toMatch(/\/pooling: must be one of "temporal", "spectral", "spatial"/);
    }
  });

  it('reports invalid JSON with its position', () => {
    expect(() => parseRunConfig('{ "dataset": { "root": "/d" } ', 'bad.json')).toThrow(/^bad\.json:1:\d+: invalid JSON/);
  });

  it('requires a dataset', () => {
    expect(() => parseRunConfig('{}', 'x.json')).toThrow(/x\.json:1:1: \/: must have required property 'dataset'/);
  });

  it('locates pointers for errors found later in the run', () => {
    const loaded = parseRunConfig('{\n  "dataset": { "root": "/d" },\n  "mixup": {\n    "K_s": 5000\n  }\n}', 'k.json');
    expect(loaded.locate('/mixup/K_s')).toBe('k.json:4:12');
    expect(loaded.locate('/mixup/K_s', true)).toBe('k.json:4:5');
  });

  it('names a missing file and a directory', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-cfg-'));
    await expect(loadRunConfig(path.join(dir, 'none.json'))).rejects.toThrow(/none\.json: no such config file/);
    await expect(loadRunConfig(dir)).rejects.toThrow(/is a directory/);
    writeFileSync(path.join(dir, 'ok.json'), '{"dataset":{"root":"."}}');
    expect((await loadRunConfig(path.join(dir, 'ok.json'))).config.dataset.root).toBe(dir);
  });
});

describe('example configs', () => {
  const dir = path.join(__dirname, '..', '..', 'examples');
  const files = require('node:fs').readdirSync(dir).filter((f: string) => f.endsWith('.json')) as string[];
  it('exist for the paper tables, the figure and the synthetic ablation', () => {
    expect(files).toEqual(expect.arrayContaining(['synth-ablation.json', 'dcase2023-table1-ks990.json', 'dcase2023-table2-ablation.json', 'dcase2023-fig1-layer-sweep.json', 'dcase2020-table4-lowshot-16.json']));
  });
  it.each(files)('%s is valid against the schema', async (f) => {
    const loaded = await loadRunConfig(path.join(dir, f));
    expect(loaded.config.dataset.root).toMatch(/examples/);
  });
});
