import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  comparisonMarkdown,
  parseResultsJson,
  percent,
  resultsPickRow,
  runHistory,
  runItemView,
  type RunEntry,
  type RunRecord,
} from '../../extension/src/runEntries';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import { readResults } from '../../worker/src/experiments/readResults';
import { runExperiment } from '../../worker/src/experiments/run';
import type { Metrics } from '../../worker/src/protocol/results';
import { resolveSettings } from '../../worker/src/settings';
import { writeTinyDataset } from '../helpers/tinyDataset';

// Local-time dates, so the expected "HH:MM" hold in any time zone.
const now = new Date(2026, 11, 3, 18, 0);
const at = (h: number, m: number, day = 3): string => new Date(2026, 11, day, h, m).toISOString();

function metrics(official: number | null, auc = 0.8, pauc = 0.6): Metrics {
  return {
    auc,
    pauc,
    auc_source: official === null ? null : auc,
    auc_target: official === null ? null : auc,
    official,
  };
}

/** The parts of a results.json (protocol/results.ts) the history reads, as `genrep run` writes them. */
function resultsJson(o: { name: string; finishedAt: string; official?: number | null; configFile?: string }): string {
  const overall = o.official === undefined ? null : metrics(o.official);
  return JSON.stringify({
    schemaVersion: 1,
    name: o.name,
    configFile: o.configFile ?? null,
    startedAt: o.finishedAt,
    finishedAt: o.finishedAt,
    embedder: { id: 'fbank-stats', provider: 'builtin', numLayers: 1, dim: 256, pooling: 'temporal' },
    variants: [
      {
        id: 'main',
        overall,
        machines: [
          { machineType: 'fan', metrics: metrics(0.7361, 0.75, 0.55), files: [] },
          { machineType: 'pump', metrics: metrics(0.6, 0.65, 0.52), files: [] },
        ],
      },
    ],
    outputs: ['results.json', 'report.html', 'anomaly_score_fan_section_00_test.csv'],
  });
}

function parsed(text: string, file: string): RunEntry {
  const result = parseResultsJson(text, file);
  if (!result.ok) throw new Error(result.problem);
  return result.entry;
}

describe('run history entries', () => {
  it('reads a results.json into name, date, embedder, score, folder and report', () => {
    const entry = parsed(
      resultsJson({ name: 'demo', finishedAt: at(14, 2), official: 0.73614, configFile: '/w/demo.genrep.json' }),
      '/w/runs/demo/results.json',
    );
    expect(entry).toMatchObject({
      key: '/w/runs/demo/results.json',
      name: 'demo',
      status: 'complete',
      embedder: 'fbank-stats',
      folder: '/w/runs/demo',
      reportFile: '/w/runs/demo/report.html',
      configFile: '/w/demo.genrep.json',
    });
    expect(entry.machines.map((m) => m.machineType)).toEqual(['fan', 'pump']);
    const view = runItemView(entry, now);
    expect(view).toMatchObject({
      label: 'demo',
      description: '14:02 · fbank-stats · official 73.61% · complete',
      contextValue: 'run.complete',
    });
    expect(view.tooltip).toContain('folder /w/runs/demo');
  });

  it('falls back to the AUC without domains, and says nothing of a score without labels', () => {
    const auc = parsed(
      resultsJson({ name: 'dcase2020', finishedAt: at(9, 0, 1), official: null }),
      '/w/a/results.json',
    );
    expect(runItemView(auc, now).description).toBe('2026-12-01 09:00 · fbank-stats · AUC 80.00% · complete');
    const unlabelled = parsed(resultsJson({ name: 'eval', finishedAt: at(9, 0) }), '/w/b/results.json');
    expect(runItemView(unlabelled, now).description).toBe('09:00 · fbank-stats · complete');
    expect(percent(0.5)).toBe('50.00%');
    expect(percent(1)).toBe('100.00%');
  });

  it('refuses files that are not a results.json of this schema, saying why', () => {
    expect(parseResultsJson('{', '/w/x/results.json')).toEqual({
      ok: false,
      problem: '/w/x/results.json: not valid JSON',
    });
    const other = parseResultsJson('{"schemaVersion": 2, "name": "n", "variants": []}', '/w/y/results.json');
    expect(other).toEqual({ ok: false, problem: '/w/y/results.json: results schemaVersion 2 is not 1' });
    const foreign = parseResultsJson('{"schemaVersion": 1, "accuracy": 0.9}', '/w/z/results.json');
    expect(foreign.ok).toBe(false);
    expect(parseResultsJson('[1]', '/w/q/results.json').ok).toBe(false);
  });

  it('lists newest first, with cancelled, failed and running runs from the records until a finished run supersedes them', () => {
    const older = parsed(
      resultsJson({ name: 'a', finishedAt: at(10, 0), official: 0.5, configFile: '/w/a.genrep.json' }),
      '/w/ra/results.json',
    );
    const newer = parsed(resultsJson({ name: 'b', finishedAt: at(12, 0), official: 0.6 }), '/w/rb/results.json');
    const records: RunRecord[] = [
      // Cancelled before the finished run of the same config: Run Again succeeded, so it is gone.
      { id: 'r1', configFile: '/w/a.genrep.json', name: 'a', startedAt: at(9, 0), status: 'cancelled' },
      {
        id: 'r2',
        configFile: '/w/a.genrep.json',
        name: 'a',
        startedAt: at(11, 0),
        endedAt: at(11, 5),
        status: 'cancelled',
        featuresKept: 120,
      },
      {
        id: 'r3',
        configFile: '/w/c.genrep.json',
        name: 'c',
        startedAt: at(13, 0),
        endedAt: at(13, 1),
        status: 'failed',
        message: 'Running c failed: K_s',
      },
      { id: 'r4', configFile: '/w/a.genrep.json', name: 'a', startedAt: at(8, 0), status: 'running' },
    ];
    const history = runHistory([older, newer], records);
    expect(history.map((e) => `${e.name}:${e.status}`)).toEqual([
      'c:failed',
      'b:complete',
      'a:cancelled',
      'a:complete',
      'a:running',
    ]);
    const cancelled = runItemView(history[2]!, now);
    expect(cancelled).toMatchObject({
      label: 'a',
      description: '11:05 · cancelled (120 features kept)',
      contextValue: 'run.cancelled',
    });
    expect(runItemView(history[0]!, now).tooltip).toContain('Running c failed: K_s');
  });

  it('shows Open Results rows as name, date and folder rather than "results.json"', () => {
    const entry = parsed(
      resultsJson({ name: 'demo', finishedAt: at(14, 2), official: 0.7 }),
      '/w/runs/demo/results.json',
    );
    expect(resultsPickRow(entry, (f) => f.replace('/w/', ''), now)).toEqual({
      label: 'demo',
      description: '14:02 · official 70.00%',
      detail: 'runs/demo',
    });
  });

  it('compares runs side by side per machine type, one table per metric', () => {
    const a = parsed(resultsJson({ name: 'a|1', finishedAt: at(10, 0), official: 0.5 }), '/w/ra/results.json');
    const b = parsed(resultsJson({ name: 'b', finishedAt: at(12, 0), official: null }), '/w/rb/results.json');
    const text = comparisonMarkdown([a, b], now);
    expect(text).toContain('| machine type | a\\|1 · 10:00 | b · 12:00 |');
    expect(text).toContain('## Official score');
    expect(text).toContain('| fan | 73.61% | 73.61% |');
    expect(text).toContain('| **overall** | 50.00% | — |');
    expect(text).toContain('## pAUC');
    expect(text).toContain('| pump | 52.00% | 52.00% |');
  });
});

describe('run history of a real run', () => {
  it('reads what genrep run writes: name, embedder, official score, folder and report', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-runs-view-'));
    try {
      writeTinyDataset(path.join(dir, 'data'), { machines: ['fan'], trainSource: 8, trainTarget: 2, testPerGroup: 2 });
      const configFile = path.join(dir, 'tiny.genrep.json');
      const text = JSON.stringify({
        name: 'tiny',
        dataset: { root: 'data' },
        embedder: 'fbank-stats',
        mixup: { K_s: 4, lambda: 0.9 },
        cacheDir: 'cache',
        output: 'runs/tiny',
      });
      writeFileSync(configFile, text);
      const loaded = parseRunConfig(text, configFile);
      const outcome = await runExperiment(loaded, resolveSettings({ runConfig: loaded.config, env: process.env }));
      const results = await readResults(outcome.resultsFile);
      const entry = parsed(readFileSync(outcome.resultsFile, 'utf8'), outcome.resultsFile);
      expect(entry).toMatchObject({
        name: 'tiny',
        status: 'complete',
        folder: path.join(dir, 'runs', 'tiny'),
        configFile,
        embedder: results.embedder.id,
        overall: results.variants[0]!.overall,
      });
      expect(entry.reportFile && existsSync(entry.reportFile)).toBe(true);
      expect(entry.machines).toEqual([{ machineType: 'fan', metrics: results.variants[0]!.machines[0]!.metrics }]);
      const official = results.variants[0]!.overall!.official!;
      expect(runItemView(entry).description).toContain(`official ${(official * 100).toFixed(2)}%`);
      // A run of the same config that finished after a cancelled one supersedes its record.
      const cancelled: RunRecord = {
        id: 'r',
        configFile,
        name: 'tiny',
        startedAt: results.startedAt,
        status: 'cancelled',
      };
      expect(runHistory([entry], [cancelled]).map((e) => e.status)).toEqual(['complete']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
