import { describe, expect, it } from 'vitest';
import { compareRuns, matchFiles, metricDeltas } from '../../worker/src/compare/compareRuns';
import { compareSummary } from '../../worker/src/compare/compareHtml';
import { compareRunNames, formatDelta, rocOverlaySpec, scoreScatterSpec } from '../../worker/src/protocol/chartSpecs';
import type { FileScore, MachineResult, Metrics, RunResults, VariantResult } from '../../worker/src/protocol/results';
import type { RunConfig } from '../../worker/src/protocol/runConfig';
import { renderSvg } from '../../worker/src/report/renderSvg';

const metrics = (auc: number, official: number | null = auc): Metrics => ({
  auc,
  pauc: auc - 0.1,
  auc_source: official === null ? null : auc + 0.05,
  auc_target: official === null ? null : auc - 0.05,
  official,
});

const file = (
  name: string,
  score: number,
  decision: 0 | 1,
  label: 'normal' | 'anomaly' | null,
  dir = '/d',
): FileScore => ({
  name,
  path: `${dir}/${name}`,
  section: '00',
  domain: 'source',
  label,
  score,
  d_source: score,
  d_target: null,
  decision,
});

function machine(machineType: string, auc: number, files: FileScore[], chosenLayer = 1): MachineResult {
  return {
    machineType,
    sections: ['00'],
    layers: [{ layer: chosenLayer, metrics: metrics(auc) }],
    chosenLayer,
    metrics: metrics(auc),
    threshold: 0.5,
    files,
    roc: { all: { fpr: [0, 0.5, 1], tpr: [0, auc, 1] }, source: null, target: null },
  };
}

function variant(id: string, machines: MachineResult[], overall: Metrics | null): VariantResult {
  return {
    id,
    dn: 'transductive',
    mixup: null,
    K_n: 1,
    layerSelection: 'fixed',
    machines,
    seeds: null,
    overall,
    perLayer: [],
    summaryStyle: 'dcase2023',
  };
}

function results(
  name: string,
  variants: VariantResult[],
  config: Partial<RunConfig> = {},
  embedder = 'fbank-stats',
): RunResults {
  return {
    schemaVersion: 1,
    name,
    config: {
      name,
      dataset: { root: 'data', layout: 'dcase2023' },
      embedder: 'fbank-stats',
      layers: 'all',
      pooling: 'mean',
      K_n: 1,
      mixup: { K_s: 10, lambda: 0.9 },
      dn: 'transductive',
      ablation: false,
      index: 'exact',
      layerSelection: 'fixed',
      batchSize: 8,
      channel: 0,
      output: `out-${name}`,
      ...config,
    } as RunConfig,
    configFile: null,
    versions: { genrep: '0', node: '20', onnxruntime: null },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:00Z',
    embedder: { id: embedder, provider: 'builtin', numLayers: 1, dim: 4, pooling: 'mean' },
    dataset: { root: 'data', layout: 'dcase2023', machineTypes: [], skipped: [] },
    cache: { hits: 0, extracted: 0 },
    timings: { discoverSec: 0, extractSec: 0, scoreSec: 0, writeSec: 0, totalSec: 0 },
    variants,
    outputs: [],
  };
}

const filesA = [file('n1.wav', 0.1, 0, 'normal'), file('n2.wav', 0.6, 1, 'normal'), file('a1.wav', 0.4, 0, 'anomaly')];
const filesB = [file('n1.wav', 0.2, 0, 'normal'), file('n2.wav', 0.3, 0, 'normal'), file('a1.wav', 0.45, 0, 'anomaly')];

describe('compareRuns', () => {
  const a = results('base', [
    variant('dn=transductive mixup=off', [machine('fan', 0.7, filesA, 1), machine('valve', 0.6, [])], metrics(0.65)),
    variant('dn=none mixup=off', [machine('fan', 0.5, [])], metrics(0.5)),
    variant('dn=none mixup=K_s10', [machine('fan', 0.5, [])], metrics(0.5)),
  ]);
  const b = results(
    'dn-none',
    [
      variant('dn=none mixup=off', [machine('pump', 0.9, []), machine('fan', 0.8, filesB, 2)], metrics(0.8)),
      variant('dn=none mixup=K_s10', [machine('fan', 0.55, [])], metrics(0.55)),
      variant('dn=transductive mixup=K_s10', [machine('fan', 0.5, [])], metrics(0.5)),
    ],
    { dn: 'none', mixup: { K_s: 20, lambda: 0.9 } },
  );
  const result = compareRuns([
    { file: '/r/a/results.json', results: a },
    { file: '/r/b/results.json', results: b },
  ]);
  const pair = result.pairs[0]!;

  it('pairs the main variants whatever their ids, then the others by id, and lists the rest', () => {
    expect(result.runs.map((r) => r.name)).toEqual(['base', 'dn-none']);
    expect(pair.variants.map((v) => [v.idA, v.idB])).toEqual([
      ['dn=transductive mixup=off', 'dn=none mixup=off'],
      ['dn=none mixup=off', 'dn=none mixup=off'],
      ['dn=none mixup=K_s10', 'dn=none mixup=K_s10'],
    ]);
    expect(pair.variantsOnlyA).toEqual([]);
    expect(pair.variantsOnlyB).toEqual(['dn=transductive mixup=K_s10']);
  });

  it('aligns machine types by name and lists those only one run scored', () => {
    const main = pair.variants[0]!;
    expect(main.machines.map((m) => m.machineType)).toEqual(['fan']);
    expect(main.machinesOnlyA).toEqual(['valve']);
    expect(main.machinesOnlyB).toEqual(['pump']);
    const fan = main.machines[0]!;
    expect([fan.chosenLayerA, fan.chosenLayerB]).toEqual([1, 2]);
  });

  it('computes B − A per machine type and for the summary, null where a side has no value', () => {
    const main = pair.variants[0]!;
    const fan = main.machines[0]!;
    expect(fan.delta.auc).toBeCloseTo(0.1, 12);
    expect(fan.delta.official).toBeCloseTo(0.1, 12);
    expect(main.overall.delta.official).toBeCloseTo(0.15, 12);
    expect(metricDeltas(metrics(0.7, null), metrics(0.8)).official).toBeNull();
    expect(metricDeltas(null, metrics(0.8)).auc).toBeNull();
  });

  it('lists clips whose decision changed, with whether B fixed or broke them', () => {
    const main = pair.variants[0]!;
    expect(main.machines[0]!.files).toHaveLength(3);
    expect(main.changed).toEqual([
      {
        machineType: 'fan',
        name: 'n2.wav',
        path: '/d/n2.wav',
        label: 'normal',
        scoreA: 0.6,
        scoreB: 0.3,
        decisionA: 1,
        decisionB: 0,
        effect: 'fixed',
      },
    ]);
  });

  it('diffs the configs by JSON pointer, with embedder ids and chosen layers, ignoring where a run is', () => {
    expect(pair.configDiff).toEqual([
      { path: '/dn', a: '"transductive"', b: '"none"' },
      { path: '/mixup/K_s', a: '10', b: '20' },
      { path: 'chosenLayer/fan', a: '1', b: '2' },
    ]);
    const other = compareRuns([
      { file: 'a', results: a },
      { file: 'b', results: results('x', a.variants, { layers: [3, 6] }, 'beats-iter3') },
    ]).pairs[0]!;
    expect(other.configDiff).toEqual([
      { path: '/layers', a: '"all"', b: '[3,6]' },
      { path: 'embedders', a: '["fbank-stats"]', b: '["beats-iter3"]' },
    ]);
  });

  it('compares each further run with the first', () => {
    const three = compareRuns([
      { file: '/r/a/results.json', results: a },
      { file: '/r/b/results.json', results: b },
      { file: '/r/c/results.json', results: a },
    ]);
    expect(three.pairs.map((p) => [p.a, p.b])).toEqual([
      [0, 1],
      [0, 2],
    ]);
    expect(three.pairs[1]!.configDiff).toEqual([]);
    expect(compareSummary(three)).toMatch(
      /^A = base \(a\); each other run compared with A\nbase \(a\) → dn-none: hmean official 65\.00 → 80\.00 \(Δ \+15\.00\); 1 changed decision; 3 config differences\nbase \(a\) → base \(c\): .*Δ 0\.00\); 0 changed decisions; 0 config differences$/,
    );
  });

  it('refuses fewer than two runs', () => {
    expect(() => compareRuns([{ file: 'a', results: a }])).toThrow(/two or more/);
  });
});

describe('matchFiles', () => {
  it('matches by path, else by a file name unique in both runs', () => {
    const moved = [
      file('n1.wav', 1, 0, 'normal', '/e'),
      file('x.wav', 1, 0, null, '/e'),
      file('x.wav', 2, 0, null, '/f'),
    ];
    const here = [file('n1.wav', 0, 0, 'normal'), file('x.wav', 0, 0, null)];
    const m = matchFiles(here, moved);
    expect(m.files.map((f) => [f.name, f.scoreA, f.scoreB])).toEqual([['n1.wav', 0, 1]]);
    expect([m.unmatchedA, m.unmatchedB]).toEqual([1, 2]);
  });
});

describe('formatDelta', () => {
  it('signs percentage points', () => {
    expect(formatDelta(0.0125)).toBe('+1.25');
    expect(formatDelta(-0.004)).toBe('−0.40');
    expect(formatDelta(0.00001)).toBe('0.00');
    expect(formatDelta(null)).toBe('—');
    expect(
      compareRunNames({
        runs: [
          { name: 'x', file: 'C:\\r\\a\\results.json' },
          { name: 'x', file: '/r/b/results.json' },
          { name: 'y', file: 'results.json' },
        ],
      }),
    ).toEqual(['x (a)', 'x (b)', 'y']);
  });
});

describe('comparison chart specs', () => {
  it('overlay one ROC curve per run and render to SVG', async () => {
    const spec = rocOverlaySpec({
      machineType: 'fan',
      runs: [
        { run: 'A', roc: { fpr: [0, 1], tpr: [0, 1] } },
        { run: 'B', roc: { fpr: [0, 0, 1], tpr: [0, 1, 1] } },
      ],
    })!;
    const values = (spec['data'] as { values: { run: string }[] }).values;
    expect(values.filter((v) => v.run === 'B')).toHaveLength(3);
    expect(rocOverlaySpec({ machineType: 'fan', runs: [{ run: 'A', roc: null }] })).toBeNull();
    const svg = await renderSvg(spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('fan — ROC by run');
  });

  it('scatter each clip A vs B with changed clips marked, and render to SVG', async () => {
    const spec = scoreScatterSpec({
      machineType: 'fan',
      runA: 'A',
      runB: 'B',
      thresholdA: 0.5,
      thresholdB: 0.4,
      files: [
        { name: 'n.wav', scoreA: 0.1, scoreB: 0.2, label: 'normal', changed: false },
        { name: 'a.wav', scoreA: 0.6, scoreB: 0.3, label: null, changed: true },
      ],
    });
    expect((spec['data'] as { values: unknown[] }).values).toEqual([
      { name: 'n.wav', a: 0.1, b: 0.2, label: 'normal', decision: 'same' },
      { name: 'a.wav', a: 0.6, b: 0.3, label: 'unlabelled', decision: 'changed' },
    ]);
    const svg = await renderSvg(spec);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('A score');
  });
});
