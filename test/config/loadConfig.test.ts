import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
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
    expect(() => parseRunConfig('{ "dataset": { "root": "/d" } ', 'bad.json')).toThrow(
      /^bad\.json:1:\d+: invalid JSON/,
    );
  });

  it('requires a dataset', () => {
    expect(() => parseRunConfig('{}', 'x.json')).toThrow(/x\.json:1:1: \/: must have required property 'dataset'/);
  });

  it('locates pointers for errors found later in the run', () => {
    const loaded = parseRunConfig('{\n  "dataset": { "root": "/d" },\n  "mixup": {\n    "K_s": 5000\n  }\n}', 'k.json');
    expect(loaded.locate('/mixup/K_s')).toBe('k.json:4:12');
    expect(loaded.locate('/mixup/K_s', true)).toBe('k.json:4:5');
  });

  it('skips a UTF-8 byte-order mark and counts columns after it', () => {
    expect(parseRunConfig('\ufeff{ "dataset": { "root": "/d" }, "K_n": 2 }', 'bom.json').config.K_n).toBe(2);
    const bad = '\ufeff{ "dataset": { "root": "/d" }, "K_n": "x" }';
    expect(() => parseRunConfig(bad, 'bom.json')).toThrow(/^bom\.json:1:39: \/K_n: must be integer$/);
  });

  it('refuses a duplicate key at its second occurrence, naming where the first is', () => {
    const text = '{\n  "dataset": { "root": "/d" },\n  "K_n": 1,\n  "K_n": 2\n}';
    expect(() => parseRunConfig(text, 'dup.json')).toThrow(
      /^dup\.json:4:3: \/K_n: duplicate key 'K_n' \(first at 3:3\); keep one$/,
    );
    const nested = '{ "dataset": { "root": "/d", "files": [ { "path": "a", "path": "b" } ] } }';
    expect(() => parseRunConfig(nested, 'n.json')).toThrow(
      /^n\.json:1:56: \/dataset\/files\/0\/path: duplicate key 'path' \(first at 1:43\)/,
    );
    // Keys that differ only after decoding escapes are the same key; a key with "/" is escaped in the pointer.
    const escaped = '{ "dataset": { "root": "/d" }, "a/b": 1, "a\\u002fb": 2 }';
    expect(() => parseRunConfig(escaped, 'e.json')).toThrow(/\/a~1b: duplicate key 'a\/b'/);
  });

  it('refuses nesting deeper than 64 levels before parsing, at the first bracket too deep', () => {
    const nest = (levels: number): string =>
      `{ "dataset": { "root": "/d" }, "name": ${'['.repeat(levels)}${']'.repeat(levels)} }`;
    expect(() => parseRunConfig(nest(63), 'ok.json')).toThrow(/^ok\.json:1:\d+: \/name: must be string$/);
    expect(() => parseRunConfig(nest(64), 'deep.json')).toThrow(/^deep\.json:1:103: nested more than 64 levels deep/);
    expect(() => parseRunConfig(nest(100_000), 'deeper.json')).toThrow(
      /^deeper\.json:1:103: nested more than 64 levels deep/,
    );
    // Brackets in strings and comments are not nesting.
    const text = `{ // ${'['.repeat(100)}\n "dataset": { "root": "/d" }, "name": "${'{'.repeat(100)}" }`;
    expect(parseRunConfig(text, 's.json').config.name).toBe('{'.repeat(100));
  });

  it('refuses an empty file and a UTF-16 file in words', async () => {
    expect(() => parseRunConfig(' \n', 'empty.json')).toThrow(/^empty\.json: is empty; expected a run config/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-cfg-'));
    const file = path.join(dir, 'u16.json');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"dataset":{"root":"."}}', 'utf16le')]));
    await expect(loadRunConfig(file)).rejects.toThrow(/u16\.json: is UTF-16 text; save the run config as UTF-8/);
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
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  it('exist for the paper tables, the figure and the synthetic ablation', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'synth-ablation.json',
        'dcase2023-table1-ks990.json',
        'dcase2023-table2-ablation.json',
        'dcase2023-fig1-layer-sweep.json',
        'dcase2020-table4-lowshot-16.json',
      ]),
    );
  });
  it.each(files)('%s is valid against the schema', async (f) => {
    const loaded = await loadRunConfig(path.join(dir, f));
    expect(loaded.config.dataset.root).toMatch(/examples/);
  });
});
