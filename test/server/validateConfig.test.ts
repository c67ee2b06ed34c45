import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import type { Range } from '../../worker/src/protocol/positions';
import { validateConfigText, validateConfigWithDataset } from '../../worker/src/server/configDiagnostics';
import { startWorker, stopWorker, type TestWorker } from '../server/workerProcess';

/** The range of the n-th occurrence of `needle` in `text`, as LSP counts (0-based line and UTF-16 column). */
function rangeOf(text: string, needle: string, occurrence = 0): Range {
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, at).split('\n');
  const line = before.length - 1;
  const character = before[line]!.length;
  return { start: { line, character }, end: { line, character: character + needle.length } };
}

const BROKEN = `// A run config with one mistake of each kind.
{
  "name": "broken",
  "dataset": { "root": "data", "layout": "dcase2042" },
  "embedder": "fbank-stats",
  "K_n": "three",
  "mixup": { "K_s": -1, "lambda": 0.9 },
  "pooling": "temporal",
  "colour": "blue"
}
`;

let dir: string;
let worker: TestWorker;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-validate-'));
  // A dataset as discovery sees it (names only): fan, 3 source + 1 target training clips, a labelled test set.
  for (const sub of ['train', 'test']) mkdirSync(path.join(dir, 'data', 'fan', sub), { recursive: true });
  for (const name of [
    'source_train_normal_0',
    'source_train_normal_1',
    'source_train_normal_2',
    'target_train_normal_0',
  ])
    writeFileSync(path.join(dir, 'data', 'fan', 'train', `section_00_${name}.wav`), '');
  for (const name of ['source_test_normal_0', 'source_test_anomaly_0', 'target_test_normal_0', 'target_test_anomaly_0'])
    writeFileSync(path.join(dir, 'data', 'fan', 'test', `section_00_${name}.wav`), '');
  worker = await startWorker();
});

afterAll(async () => {
  if (worker) await stopWorker(worker);
  rmSync(dir, { recursive: true, force: true });
});

describe('genrep/validateConfig over the protocol', () => {
  it('returns one diagnostic per schema violation, each with the range of the offending text', async () => {
    const file = path.join(dir, 'broken.genrep.json');
    writeFileSync(file, BROKEN);
    const result = await worker.request('genrep/validateConfig', { file });
    expect(result.valid).toBe(false);
    const byPointer = Object.fromEntries(result.diagnostics.map((d) => [d.pointer, d]));
    expect(Object.keys(byPointer).sort()).toEqual(['/K_n', '/colour', '/dataset/layout', '/mixup/K_s']);
    expect(byPointer['/dataset/layout']).toMatchObject({
      severity: 'error',
      source: 'schema',
      range: rangeOf(BROKEN, '"dcase2042"'),
    });
    expect(byPointer['/dataset/layout']!.message).toMatch(/must be one of "auto", "dcase2023"/);
    expect(byPointer['/K_n']).toMatchObject({ range: rangeOf(BROKEN, '"three"') });
    expect(byPointer['/K_n']!.message).toMatch(/must be integer/);
    expect(byPointer['/mixup/K_s']).toMatchObject({ range: rangeOf(BROKEN, '-1') });
    // An unknown key is underlined at the key, not its value.
    expect(byPointer['/colour']).toMatchObject({
      range: rangeOf(BROKEN, '"colour"'),
      message: "/colour: unknown key 'colour'",
    });
  });

  it('validates the editor text when given, not the file on disk', async () => {
    const file = path.join(dir, 'unsaved.genrep.json');
    writeFileSync(file, BROKEN);
    const text = '{ "dataset": { "root": "data" }, "mixup": { "K_s": 3 } }';
    expect(await worker.request('genrep/validateConfig', { file, text })).toEqual({
      file,
      valid: true,
      diagnostics: [],
    });
  });

  it('agrees with the loader the run uses: what validates here loads there, what fails here fails there', () => {
    const file = path.join(dir, 'agree.genrep.json');
    expect(() => parseRunConfig(BROKEN, file)).toThrow(/dcase2042|K_n|colour/);
    expect(() => parseRunConfig('{ "dataset": { "root": "data" } }', file)).not.toThrow();
  });
});

describe('validateConfigText', () => {
  it('reports a syntax error at its position', () => {
    const text = '{\n  "dataset": { "root": "data" }\n  "K_n": 2\n}';
    const { valid, diagnostics } = validateConfigText(text, path.join(dir, 'syntax.genrep.json'));
    expect(valid).toBe(false);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ source: 'json', message: "invalid JSON: expected ','" });
    expect(diagnostics[0]!.range.start).toEqual({ line: 2, character: 2 });
  });

  it('underlines the key of a required property that is missing, or the opening brace at the top level', () => {
    const { diagnostics } = validateConfigText('{ "name": "x" }', path.join(dir, 'req.genrep.json'));
    expect(diagnostics).toEqual([
      expect.objectContaining({
        pointer: '',
        message: "/: missing required key 'dataset'",
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      }),
    ]);
  });

  it('joins the alternatives of a oneOf into one message at one place', () => {
    const text = '{ "dataset": { "root": "data" }, "layers": "some" }';
    const { diagnostics } = validateConfigText(text, path.join(dir, 'layers.genrep.json'));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toBe('/layers: must be array, or must be "all"');
    expect(diagnostics[0]!.range).toEqual(rangeOf(text, '"some"'));
  });

  it('refuses paths the run needs that do not exist once the schema passes, relative to the config folder', async () => {
    const text = '{ "dataset": { "root": "elsewhere" }, "embedder": "./models/mine.onnx" }';
    const { valid, diagnostics } = await validateConfigWithDataset(text, path.join(dir, 'paths.genrep.json'));
    expect(valid).toBe(false); // the run could discover nothing there, nor load the model
    expect(diagnostics.map((d) => [d.severity, d.pointer, d.source])).toEqual([
      ['error', '/dataset/root', 'file'],
      ['error', '/embedder', 'file'],
    ]);
    expect(diagnostics[0]!.message).toContain(path.join(dir, 'elsewhere'));
    expect(diagnostics[1]!.range).toEqual(rangeOf(text, '"./models/mine.onnx"'));
  });

  it('counts columns in UTF-16 code units, as the editor does', () => {
    const text = '{ "name": "𝄞𝄞", "dataset": { "root": "data" }, "pooling": 3 }';
    const { diagnostics } = validateConfigText(text, path.join(dir, 'utf16.genrep.json'));
    expect(diagnostics[0]!.range.start.character).toBe(text.indexOf(': 3') + 2);
  });
});
