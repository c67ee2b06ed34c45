import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRunConfig, type LoadedConfig } from '../../worker/src/config/loadConfig';
import { readResults } from '../../worker/src/experiments/readResults';
import { runExperiment } from '../../worker/src/experiments/run';
import type { ExperimentOutcome, RunContext } from '../../worker/src/experiments/runContext';
import { resolveSettings } from '../../worker/src/settings';
import { writeTinyDataset } from '../helpers/tinyDataset';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-run-'));
  writeTinyDataset(path.join(dir, 'data'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(extra: Record<string, unknown> = {}, name = 'exp.genrep.json') {
  const file = path.join(dir, name);
  const text = JSON.stringify(
    {
      dataset: { root: 'data' },
      embedder: 'fbank-stats',
      mixup: { K_s: 10, lambda: 0.9 },
      cacheDir: 'cache',
      output: 'out',
      ...extra,
    },
    null,
    2,
  );
  writeFileSync(file, text);
  return parseRunConfig(text, file);
}

/** `genrep run`'s call: the config's own folders over the environment. */
function run(loaded: LoadedConfig, ctx?: RunContext): Promise<ExperimentOutcome> {
  return runExperiment(loaded, resolveSettings({ runConfig: loaded.config, env: process.env }), ctx);
}

function walk(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
  );
}

describe('genrep run', () => {
  it('scores every machine type, writes results.json, the DCASE files and a self-contained report', async () => {
    const outcome = await run(config({ ablation: true }));
    const r = await readResults(outcome.resultsFile);
    expect(r.dataset.machineTypes).toEqual(['fan', 'pump']);
    expect(r.variants.map((v) => v.id)).toEqual([
      'dn=transductive mixup=K_s10',
      'dn=none mixup=off',
      'dn=none mixup=K_s10',
      'dn=transductive mixup=off',
    ]);
    const main = r.variants[0]!;
    expect(main.layerSelection).toBe('oracle');
    for (const m of main.machines) {
      expect(m.files).toHaveLength(24);
      expect(m.metrics!.auc).toBeGreaterThan(0.5); // clicks are audible to fbank statistics
      expect(m.roc!.source!.fpr[0]).toBe(0);
      expect(m.files.every((f) => f.d_source !== null && f.d_target !== null)).toBe(true);
    }
    expect(main.overall!.official).toBeCloseTo(
      (3 /
        main.machines
          .flatMap((m) => [m.metrics!.auc_source!, m.metrics!.auc_target!, m.metrics!.pauc])
          .reduce((a, x) => a + 1 / x, 0)) *
        2,
      12,
    );
    const scores = readFileSync(path.join(outcome.outputDir, 'anomaly_score_fan_section_00_test.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(scores).toHaveLength(24);
    expect(scores[0]).toMatch(/^section_00_source_test_anomaly_0000_spd_200\.wav,-?\d/);
    const decisions = readFileSync(path.join(outcome.outputDir, 'decision_result_pump_section_00_test.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(decisions.every((l) => /,(0|1)$/.test(l))).toBe(true);
    const html = readFileSync(outcome.reportFile, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Ablation');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(r.cache.extracted).toBe(2 * (35 + 24));
  });

  it('re-runs with other scoring options without extracting anything', async () => {
    const outcome = await run(config({ dn: ['inductive', 'none'], K_n: 2 }));
    expect(outcome.results.cache).toEqual({ hits: 2 * (35 + 24), extracted: 0 });
    expect(outcome.results.variants.map((v) => v.dn)).toEqual(['inductive', 'none']);
  });

  it('stops a cancelled run between clips and leaves only complete cache entries', async () => {
    const abort = new AbortController();
    let seen = 0;
    const loaded = config({ cacheDir: 'cache-cancel' });
    await expect(
      run(loaded, {
        signal: abort.signal,
        onProgress: (p) => {
          if (p.stage === 'extract' && p.done > 0 && ++seen === 2) abort.abort();
        },
      }),
    ).rejects.toThrow(/cancelled/);
    const files = walk(path.join(dir, 'cache-cancel'));
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
    const entries = files.filter((f) => f.endsWith('.f32'));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThan(2 * (35 + 24));
    expect(entries.every((f) => readFileSync(f).length === 256 * 4)).toBe(true);
    const resumed = await run(loaded);
    expect(resumed.results.cache.hits).toBe(entries.length);
    expect(resumed.results.cache.extracted).toBe(2 * (35 + 24) - entries.length);
  });

  it('averages low-shot runs over seeds', async () => {
    const outcome = await run(
      config(
        { lowShot: { k: 12, seeds: [1, 2] }, dn: 'none', mixup: { K_s: 0, lambda: 0.9 }, output: 'out-low' },
        'low.genrep.json',
      ),
    );
    const v = outcome.results.variants[0]!;
    expect(v.seeds).toEqual([1, 2]);
    for (const m of v.machines) expect(m.metrics!.auc).toBeGreaterThan(0);
  });

  it('names the config position of a K_s larger than the source bank and of a layer that does not exist', async () => {
    await expect(run(config({ mixup: { K_s: 31, lambda: 0.9 } }, 'ks.genrep.json'))).rejects.toThrow(
      /ks\.genrep\.json:\d+:\d+: \/mixup\/K_s: K_s = 31 is larger than the source bank of fan \(30 clips\)/,
    );
    await expect(run(config({ layers: [1, 2] }, 'layer.genrep.json'))).rejects.toThrow(
      /layer\.genrep\.json:\d+:\d+: \/layers\/1: layer 2 does not exist: fbank-stats\S* has layers 1\.\.1/,
    );
  });

  it('stops on an unreadable clip naming it, or skips it when the config allows', async () => {
    const bad = path.join(dir, 'data', 'pump', 'test', 'section_00_source_test_normal_0099_spd_250.wav');
    writeFileSync(bad, 'not a wav file at all');
    try {
      await expect(run(config({}, 'strict.genrep.json'))).rejects.toThrow(
        /section_00_source_test_normal_0099_spd_250\.wav/,
      );
      const outcome = await run(
        config({ dataset: { root: 'data', skipUnreadable: true }, output: 'out-skip' }, 'skip.genrep.json'),
      );
      expect(outcome.results.dataset.skipped.map((s) => path.basename(s.path))).toEqual([
        'section_00_source_test_normal_0099_spd_250.wav',
      ]);
      expect(existsSync(path.join(dir, 'out-skip', 'results.json'))).toBe(true);
    } finally {
      rmSync(bad);
    }
  });
});
