import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LatestVersions, shownDiagnostics } from '../../extension/src/configDiagnosticsModel';
import { applyPlan, fixesOf, planFix } from '../../extension/src/configFixEdits';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import type { ConfigDiagnostic } from '../../worker/src/protocol/workerProtocol';
import { validateConfigWithDataset } from '../../worker/src/server/configDiagnostics';

const CONFIG = `// my run
{
  "dataset": { "root": "data" },
  "kn": 1, // neighbours
  "mixup": { "K_s": 5000, "lambda": 0.9 }
}
`;

describe('quick-fix edits (configFixEdits.ts)', () => {
  it('sets a value in place, keeping comments and layout', () => {
    const plan = planFix(CONFIG, { title: 'Set K_s to 40', pointer: '/mixup/K_s', value: 40 });
    expect(plan?.title).toBe('Set K_s to 40');
    expect(applyPlan(CONFIG, plan!)).toBe(CONFIG.replace('5000', '40'));
  });

  it('inserts a value the file left out, objects above it included', () => {
    const text = '{\n  "dataset": { "root": "data" }\n}\n';
    const fixed = applyPlan(text, planFix(text, { title: 'Set K_s to 12', pointer: '/mixup/K_s', value: 12 })!);
    expect(parseRunConfig(fixed, '/ws/a.genrep.json').config.mixup).toEqual({ K_s: 12, lambda: 0.9 });
  });

  it('renames a key and nothing else', () => {
    const plan = planFix(CONFIG, { title: "Rename to 'K_n'", pointer: '/kn', renameKeyTo: 'K_n' });
    expect(applyPlan(CONFIG, plan!)).toBe(CONFIG.replace('"kn"', '"K_n"'));
  });

  it('replaces an array element (a machine type) rather than inserting one', () => {
    const text = '{ "dataset": { "root": "d", "machineTypes": ["fan", "pmup"] } }';
    const plan = planFix(text, { title: "Change to 'pump'", pointer: '/dataset/machineTypes/1', value: 'pump' });
    expect(applyPlan(text, plan!)).toBe(text.replace('"pmup"', '"pump"'));
  });

  it('carries a folder to create, and gives up on a key the text no longer has', () => {
    expect(planFix(CONFIG, { title: 'Create folder /x', createFolder: '/x' })).toEqual({
      title: 'Create folder /x',
      edits: [],
      createFolder: '/x',
    });
    expect(planFix(CONFIG, { title: 'Rename', pointer: '/gone', renameKeyTo: 'K_n' })).toBeUndefined();
  });
});

describe('what the editor publishes for a run config (configDiagnosticsModel.ts)', () => {
  const d = (code: string | undefined, source: ConfigDiagnostic['source']): ConfigDiagnostic => ({
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
    severity: 'error',
    message: code ?? source,
    pointer: '',
    source,
    ...(code ? { code } : {}),
  });

  it("publishes everything but the syntax errors VS Code's JSON service already reports", () => {
    const all = [
      d('parse', 'json'),
      d('duplicate-key', 'json'),
      d(undefined, 'schema'),
      d('bank-too-small', 'dataset'),
    ];
    expect(shownDiagnostics(all, true).map((x) => x.message)).toEqual(['duplicate-key', 'schema', 'bank-too-small']);
    expect(shownDiagnostics(all, false)).toEqual(all);
  });

  it('publishes a result only for the newest version asked about', () => {
    const latest = new LatestVersions();
    latest.ask('a', 3);
    latest.ask('a', 5);
    expect(latest.isCurrent('a', 3)).toBe(false);
    expect(latest.isCurrent('a', 5)).toBe(true);
    latest.forget('a');
    expect(latest.isCurrent('a', 5)).toBe(false);
  });
});

describe('the e2e case: K_s 5000 on 40 source clips', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-fix-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is one error whose quick fix is "Set K_s to 40", and the fixed text validates', async () => {
    for (const machine of ['fan', 'pump']) {
      mkdirSync(path.join(dir, 'data', machine, 'train'), { recursive: true });
      mkdirSync(path.join(dir, 'data', machine, 'test'), { recursive: true });
      for (let i = 0; i < 45; i++) {
        const domain = i < 40 ? 'source' : 'target';
        writeFileSync(
          path.join(dir, 'data', machine, 'train', `section_00_${domain}_train_normal_${1000 + i}.wav`),
          '',
        );
      }
      for (const domain of ['source', 'target'])
        for (const label of ['normal', 'anomaly'])
          writeFileSync(path.join(dir, 'data', machine, 'test', `section_00_${domain}_test_${label}_0000.wav`), '');
    }
    const file = path.join(dir, 'demo.genrep.json');
    const text = CONFIG.replace('"kn"', '"K_n"');
    const result = await validateConfigWithDataset(text, file);
    const fixes = fixesOf(result.diagnostics);
    expect(result.diagnostics.map((x) => x.severity)).toEqual(['error']);
    expect(fixes.map((f) => f.fix.title)).toEqual(['Set K_s to 40']);
    const fixed = applyPlan(text, planFix(text, fixes[0]!.fix)!);
    expect(await validateConfigWithDataset(fixed, file)).toEqual({ file, valid: true, diagnostics: [] });
  });
});
