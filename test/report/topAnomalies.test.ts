import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRunConfig, type LoadedConfig } from '../../worker/src/config/loadConfig';
import { readResults } from '../../worker/src/experiments/readResults';
import { explainTopAnomalies } from '../../worker/src/explain/reportTop';
import { runExperiment } from '../../worker/src/experiments/run';
import type { ExperimentOutcome } from '../../worker/src/experiments/runContext';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import { aggregateGrid, heatmapSpec, REPORT_HEATMAP, timeCellBounds } from '../../worker/src/protocol/chartSpecs';
import type { ExplainGrid } from '../../worker/src/protocol/explain';
import type { RunResults } from '../../worker/src/protocol/results';
import { resolveSettings } from '../../worker/src/settings';
import { TINY_CHECKPOINT } from '../beats/helpers';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { explainFixture } from '../webview/explainFixture';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-report-top-'));
  writeTinyDataset(path.join(dir, 'data'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, extra: Record<string, unknown> = {}): LoadedConfig {
  const file = path.join(dir, `${name}.genrep.json`);
  const text = JSON.stringify({
    dataset: { root: 'data' },
    embedder: 'fbank-stats',
    mixup: { K_s: 10, lambda: 0.9 },
    cacheDir: 'cache',
    output: name,
    ...extra,
  });
  writeFileSync(file, text);
  return parseRunConfig(text, file);
}

/** As `genrep run` and genrep/run call it: with the top-anomaly explainer, or (`explain` false) as before it. */
const run = (loaded: LoadedConfig, explain = true): Promise<ExperimentOutcome> =>
  runExperiment(
    loaded,
    resolveSettings({ runConfig: loaded.config, env: process.env }),
    explain ? { explainTop: explainTopAnomalies } : {},
  );

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** results.json without what differs between two runs of one config (clock times, the second run's cache hits). */
function comparable(r: RunResults): unknown {
  const { startedAt: _s, finishedAt: _f, timings: _t, cache: _c, ...rest } = r;
  return rest;
}

describe("report.html's top anomalies", () => {
  it('explains the top 3 test clips of each machine type, captioned with clip name and score', async () => {
    const outcome = await run(config('top'));
    const r = await readResults(outcome.resultsFile);
    const html = readFileSync(outcome.reportFile, 'utf8');
    const main = r.variants[0]!;
    const sections = html.split('<h3>').slice(1);
    expect(sections).toHaveLength(main.machines.length);
    for (const [i, m] of main.machines.entries()) {
      const section = sections[i]!;
      expect(section.startsWith(esc(m.machineType))).toBe(true);
      expect(section).toContain('Top anomalies — where the distance comes from');
      const captions = [...section.matchAll(/<figcaption>([^<]*)<\/figcaption>/g)].map((x) => x[1]!);
      const top = [...m.files].sort((a, b) => b.score - a.score).slice(0, 3);
      expect(captions).toHaveLength(3);
      for (const [j, f] of top.entries()) {
        expect(captions[j]!.startsWith(`${esc(f.name)} — score ${f.score.toFixed(3)}, distance `)).toBe(true);
      }
      expect(section.match(/<figure><svg/g)?.length).toBe(2 + 3); // ROC, histogram, three explanations
    }
    expect(html).not.toContain('No top-anomaly heat maps');
  });

  it('explains a BEATs run from its tokens, each heat map cell for cell', async () => {
    const outcome = await run(
      config('beats', { embedder: { kind: 'beats', checkpoint: TINY_CHECKPOINT }, cacheDir: 'cache-beats' }),
    );
    const html = readFileSync(outcome.reportFile, 'utf8');
    expect(html.match(/<figcaption>/g)).toHaveLength(2 * 3);
    expect(html).toContain('where the distance comes from');
    expect(html).not.toContain('shown in blocks'); // 1 s clips: a few time patches × 8 bands, drawn as they are
    expect(html).not.toContain('No top-anomaly heat maps');
  });

  it('writes the report of a run the attribution cannot explain, with the one-line reason', async () => {
    // A user ONNX encoder, [B, samples] → [B, 1] (the waveform's mean; as test/experiments/multiEmbedder.test.ts).
    const g = new GraphBuilder('mean');
    const x = g.input('audio', TensorDataType.FLOAT, ['batch', 'samples']);
    g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(1) }, { outputs: ['embedding'] });
    g.output('embedding', TensorDataType.FLOAT, ['batch', 1]);
    const onnxFile = path.join(dir, 'mean.onnx');
    writeFileSync(onnxFile, g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 'test' }));
    const embedder = { kind: 'onnx', path: onnxFile, input: 'waveform', output: 'embedding' };
    const low = { lowShot: { k: 12, seeds: [1, 2] }, dn: 'none', mixup: { K_s: 0, lambda: 0.9 } };
    for (const [name, extra, why] of [
      ['onnx', { embedder, cacheDir: 'cache-onnx' }, 'has no unpooled output to split over time and frequency'],
      ['low-shot', low, 'banks are samples of the training clips'],
    ] as const) {
      const outcome = await run(config(name, extra));
      const html = readFileSync(outcome.reportFile, 'utf8');
      const reasons = html.match(/<p class="meta">No top-anomaly heat maps for this run: [^<\n]+<\/p>/g);
      expect(reasons).toHaveLength(1);
      expect(reasons![0]).toContain(why);
      expect(html).not.toContain('Top anomalies');
      expect(html.match(/<h3>/g)).toHaveLength(2); // the machine types' sections are all there
    }
  });

  it('leaves results.json and the submission files as they were without the explanations', async () => {
    const loaded = config('identity');
    const withTop = await run(loaded);
    const kept = path.join(dir, 'identity-with-top');
    cpSync(withTop.outputDir, kept, { recursive: true });
    const plain = await run(loaded, false);
    const csv = (d: string): string[] => readdirSync(d).filter((f) => f.endsWith('.csv'));
    expect(csv(kept).length).toBe(4);
    expect(csv(plain.outputDir)).toEqual(csv(kept));
    for (const f of csv(kept)) {
      expect(readFileSync(path.join(plain.outputDir, f)).equals(readFileSync(path.join(kept, f)))).toBe(true);
    }
    expect(readFileSync(path.join(kept, 'report.html'), 'utf8')).toContain('Top anomalies');
    const a = comparable(await readResults(path.join(kept, 'results.json')));
    const b = comparable(await readResults(plain.resultsFile));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const before = readFileSync(plain.reportFile, 'utf8');
    expect(before).not.toContain('Top anomalies');
    expect(before).not.toContain('No top-anomaly heat maps');
  });
});

describe('aggregateGrid (display only)', () => {
  /** An fbank-stats-sized grid: 998 frames of 10 ms × 128 mel bins with signed, uneven values. */
  function bigGrid(): ExplainGrid {
    const times = 998;
    const bands = 128;
    const values = Array.from({ length: times * bands }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)) * 1e-3);
    return {
      times,
      bands,
      values,
      timeSeconds: Array.from({ length: times }, (_, t) => 0.0125 + 0.01 * t),
      bandHz: Array.from({ length: bands }, (_, b): [number, number] => [20 + 60 * b, 80 + 60 * b]),
      decomposition: 'linearised',
      residual: 0,
    };
  }

  it('sums whole cells into at most 100 × 32 blocks with the right time and band edges', () => {
    const grid = bigGrid();
    const shown = aggregateGrid(grid);
    expect([shown.times, shown.bands, shown.timeBlock, shown.bandBlock, shown.aggregated]).toEqual([
      100,
      32,
      10,
      4,
      true,
    ]);
    const total = grid.values.reduce((s, v) => s + v, 0);
    const shownTotal = shown.values.reduce((s, v) => s + v, 0);
    expect(Math.abs(shownTotal - total)).toBeLessThanOrEqual(1e-9 * Math.abs(total));
    // Each block is the sum of its own cells (block 57 × 13: frames 570–579, bins 52–55).
    let block = 0;
    for (let t = 570; t < 580; t++) for (let b = 52; b < 56; b++) block += grid.values[t * 128 + b]!;
    expect(shown.values[57 * 32 + 13]).toBeCloseTo(block, 12);
    const cells = timeCellBounds(grid.timeSeconds);
    expect(shown.timeEdges[0]).toEqual([cells[0]![0], cells[9]![1]]);
    expect(shown.timeEdges[57]).toEqual([cells[570]![0], cells[579]![1]]);
    expect(shown.timeEdges[99]).toEqual([cells[990]![0], cells[997]![1]]); // the last block holds 8 frames
    expect(shown.bandHz[13]).toEqual([20 + 60 * 52, 80 + 60 * 55]);
    // Row sums (per time block) are the grid's per-frame sums added up.
    for (let i = 0; i < 100; i++) {
      let want = 0;
      for (let t = i * 10; t < Math.min(998, i * 10 + 10); t++)
        for (let b = 0; b < 128; b++) want += grid.values[t * 128 + b]!;
      let got = 0;
      for (let b = 0; b < 32; b++) got += shown.values[i * 32 + b]!;
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.max(1e-12, Math.abs(want)) + 1e-15);
    }
  });

  it('draws a BEATs-size grid cell for cell and says so in the heat map subtitle when it aggregates', () => {
    const small = explainFixture();
    const same = aggregateGrid(small.grid);
    expect(same.aggregated).toBe(false);
    expect(same.values).toEqual(small.grid.values);
    const smallSpec = heatmapSpec(small) as { title: { subtitle: string }; data: { values: unknown[] } };
    expect(smallSpec.title.subtitle).not.toContain('blocks');
    expect(smallSpec.data.values).toHaveLength(12);
    const big = { ...small, grid: bigGrid() };
    const spec = heatmapSpec(big) as { title: { subtitle: string }; data: { values: unknown[] } };
    expect(spec.data.values).toHaveLength(100 * 32);
    expect(spec.title.subtitle).toContain('shown in blocks of 10 time steps × 4 bands (sums; grid 998 × 128)');
    // report.html's static heat maps: coarser blocks, no per-rect labels; a BEATs-size 62 × 8 grid stays as it is.
    const report = heatmapSpec(big, REPORT_HEATMAP) as typeof spec & { encoding: Record<string, unknown> };
    expect(report.data.values).toHaveLength(63 * 16);
    expect(report.title.subtitle).toContain('shown in blocks of 16 time steps × 8 bands (sums; grid 998 × 128)');
    expect(report.encoding['tooltip']).toBeUndefined();
    const beats: ExplainGrid = {
      ...small.grid,
      times: 62,
      bands: 8,
      values: Array.from({ length: 62 * 8 }, (_, i) => i % 5),
      timeSeconds: Array.from({ length: 62 }, (_, t) => 0.0875 + 0.16 * t),
      bandHz: Array.from({ length: 8 }, (_, b): [number, number] => [1000 * b, 1000 * (b + 1)]),
    };
    expect(aggregateGrid(beats, REPORT_HEATMAP.maxTimes, REPORT_HEATMAP.maxBands).aggregated).toBe(false);
  });
});
