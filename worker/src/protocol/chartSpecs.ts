/**
 * The Vega-Lite chart specs that the results panel renders live and report.html renders headless to SVG: part of
 * the panel's contract, so they live beside the types they draw and import nothing else of ours. The one runtime
 * module the panel takes from the worker tree (eslint.config.mjs allows exactly this file).
 */
import type { CompareMachine, CompareVariant } from './compare';
import type { ExplainGrid, ExplainResult } from './explain';
import type { MachineResult, RocPoints, VariantResult } from './results';

/**
 * Vega-Lite specs for every chart the product draws, as pure functions of the results: the editor's panel renders
 * them in the webview and report.html renders the same specs headless to SVG, so both show the same pictures.
 * Data is always inline (no URLs): vega's loader never fetches anything. Colours are left to the renderer's config,
 * so the webview can follow the editor's theme.
 */
export type VegaLiteSpec = Record<string, unknown>;

const WIDTH = 260;

/**
 * The one display convention for AUC, pAUC and the official score, as DCASE papers print them: percent with two
 * decimals (0.7379 → "73.79"). The panel, report.html, the CLI tables and the layer-sweep chart all show it;
 * results.json keeps fractions.
 */
export function formatPercent(x: number | null | undefined, missing = '—'): string {
  return x === null || x === undefined || !Number.isFinite(x) ? missing : (100 * x).toFixed(2);
}
const HEIGHT = 220;

/** ROC curves of one machine type: all clips, and each domain's normals against all anomalies. */
export function rocSpec(machine: MachineResult): VegaLiteSpec | null {
  if (!machine.roc) return null;
  const values: { curve: string; fpr: number; tpr: number; order: number }[] = [];
  const add = (curve: string, pts: { fpr: number[]; tpr: number[] } | null): void => {
    pts?.fpr.forEach((fpr, i) => values.push({ curve, fpr, tpr: pts.tpr[i]!, order: i }));
  };
  add('all', machine.roc.all);
  add('source', machine.roc.source);
  add('target', machine.roc.target);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${machine.machineType} — ROC (layer ${machine.chosenLayer})`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: rocLayers({ field: 'curve', type: 'nominal', title: null, sort: ['all', 'source', 'target'] }),
  };
}

/** A ROC chart's layers: the chance diagonal, and step curves told apart by `color` (the domain, or the run). */
function rocLayers(color: VegaLiteSpec): VegaLiteSpec[] {
  return [
    {
      data: {
        values: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      },
      mark: { type: 'line', strokeDash: [4, 4], opacity: 0.4 },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    },
    {
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
        y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
        color,
        order: { field: 'order', type: 'quantitative' },
      },
    },
  ];
}

/**
 * Below this many scored clips the score chart is a strip plot (one mark per clip) rather than a histogram: bars of
 * height one or two say less than the clips themselves, and a count axis over so few clips shows fractional ticks.
 */
export const STRIP_PLOT_BELOW = 8;

/** The scores a chart needs of a machine type (a run's MachineResult, or files scored against a bank). */
export interface ScoreChartInput {
  machineType: string;
  threshold: number;
  files: readonly { score: number; label?: string | null; name?: string }[];
}

/**
 * Where the scored clips sit relative to the bank's own training clips: their leave-one-out anomaly scores (the
 * distribution the decision threshold is a quantile of), drawn grey behind the clips.
 */
export interface ScoreContext {
  label: string;
  scores: readonly number[];
}

/** A score axis that never crowds its labels, whatever the width or the number of clips. */
const SCORE_AXIS = { labelOverlap: true, tickCount: 5, labelFlush: true };

/**
 * The score distribution of normal and anomalous test clips with the decision threshold as a dashed rule: a
 * histogram with whole-number count ticks from STRIP_PLOT_BELOW clips on, a strip plot below that. `context`, when
 * given, adds the bank's training scores (a grey row in the strip plot, a grey 5–95 % band behind the histogram).
 */
export function histogramSpec(machine: ScoreChartInput, context?: ScoreContext): VegaLiteSpec {
  const values = machine.files.map((f) => ({
    score: f.score,
    label: f.label ?? 'unlabelled',
    ...(f.name !== undefined ? { name: f.name } : {}),
  }));
  const training = context ? context.scores.filter((x) => Number.isFinite(x)) : [];
  const threshold: VegaLiteSpec[] = Number.isFinite(machine.threshold)
    ? [
        {
          data: { values: [{ threshold: machine.threshold }] },
          mark: { type: 'rule', strokeDash: [6, 3], strokeWidth: 2 },
          encoding: { x: { field: 'threshold', type: 'quantitative' } },
        },
      ]
    : [];
  const colour = { field: 'label', type: 'nominal', title: null, sort: ['normal', 'anomaly'] };
  if (values.length < STRIP_PLOT_BELOW) {
    const rows = [...new Set(values.map((v) => v.label))].sort(labelOrder);
    const withContext = context !== undefined && training.length > 0;
    // On the point and tick layers only: the threshold rule has no row and spans them all.
    const y = {
      field: 'row',
      type: 'nominal',
      title: null,
      sort: [...rows, ...(withContext ? [context.label] : [])],
      axis: { labelLimit: 200 },
    };
    const contextRows: VegaLiteSpec[] = withContext
      ? [
          {
            data: { values: training.map((score) => ({ score, row: context.label })) },
            mark: { type: 'tick', color: '#888888', opacity: 0.45, thickness: 1 },
            encoding: { x: { field: 'score', type: 'quantitative' }, y },
          },
        ]
      : [];
    const tooltip = [
      ...(values.some((v) => 'name' in v) ? [{ field: 'name', type: 'nominal', title: 'clip' }] : []),
      { field: 'score', type: 'quantitative', format: '.4f' },
    ];
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `${machine.machineType} — ${values.length} ${values.length === 1 ? 'clip' : 'clips'} (threshold dashed)`,
      usermeta: { chart: 'strip' },
      width: WIDTH,
      height: { step: 34 },
      data: { values: values.map((v) => ({ ...v, row: v.label })) },
      encoding: {
        x: { field: 'score', type: 'quantitative', title: 'anomaly score', scale: { zero: false }, axis: SCORE_AXIS },
      },
      layer: [
        ...contextRows,
        {
          mark: { type: 'point', filled: true, size: 70, opacity: 0.9 },
          encoding: { y, color: colour, tooltip },
        },
        ...threshold,
      ],
    };
  }
  // About two bins per √n clips (at least 5, at most 30), so bins hold several clips rather than one each.
  const maxbins = Math.min(30, Math.max(5, Math.round(2 * Math.sqrt(values.length))));
  const band: VegaLiteSpec[] =
    context && training.length > 0
      ? [
          {
            data: {
              values: [{ lo: quantile(training, 0.05), hi: quantile(training, 0.95), what: context.label }],
            },
            mark: { type: 'rect', color: '#888888', opacity: 0.18 },
            encoding: {
              x: { field: 'lo', type: 'quantitative' },
              x2: { field: 'hi' },
              tooltip: [{ field: 'what', type: 'nominal', title: '5–95 % of' }],
            },
          },
        ]
      : [];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${machine.machineType} — scores (threshold dashed)`,
    usermeta: { chart: 'histogram' },
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      ...band,
      {
        mark: { type: 'bar', opacity: 0.6 },
        encoding: {
          x: { field: 'score', type: 'quantitative', bin: { maxbins }, title: 'anomaly score', axis: SCORE_AXIS },
          // Counts are whole clips: no 0.5 ticks, and an axis of at least one clip.
          y: {
            aggregate: 'count',
            type: 'quantitative',
            stack: null,
            title: 'clips',
            axis: { tickMinStep: 1, format: 'd' },
          },
          color: colour,
        },
      },
      ...threshold,
    ],
  };
}

/** Strip-plot rows: normal, anomaly, then anything else alphabetically. */
function labelOrder(a: string, b: string): number {
  const rank = (l: string): number => (l === 'normal' ? 0 : l === 'anomaly' ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Linear-interpolated quantile (numpy's default) of a non-empty list. */
function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  // q ∈ [0, 1], so i and i + 1 (clamped) index the sorted list.
  const at = q * (sorted.length - 1);
  const i = Math.floor(at);
  const lo = sorted[i]!;
  const hi = sorted[Math.min(sorted.length - 1, i + 1)]!;
  return lo + (at - i) * (hi - lo);
}

/** Whether a variant has a layer sweep worth drawing: several layers, or several embedders to compare. */
export function hasLayerSweep(variant: VariantResult): boolean {
  return variant.perLayer.length > 1 || (variant.perEmbedder?.length ?? 0) > 1;
}

/**
 * The paper's Fig. 1: the summary score of every layer with all machine types at that layer. A run with several
 * embedders (`perEmbedder`) draws one line per embedder and metric: colour says the embedder, dash the metric.
 */
export function layerSweepSpec(variant: VariantResult): VegaLiteSpec | null {
  const embedders = variant.perEmbedder ?? [];
  if (embedders.length < 2) return singleLayerSweepSpec(variant);
  const values = embedders.flatMap((e) => sweepRows(e.perLayer).map((row) => ({ embedder: e.embedder, ...row })));
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Layer sweep — ${variant.id}`,
    width: 2 * WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelAngle: 0 } },
      y: sweepAxis(variant),
      // A user encoder's id is a content hash: the legend shows it whole rather than cut at vega's 160 px.
      color: {
        field: 'embedder',
        type: 'nominal',
        title: 'embedder',
        sort: embedders.map((e) => e.embedder),
        legend: { labelLimit: 320 },
      },
      strokeDash: { field: 'metric', type: 'nominal', title: 'metric', sort: ['AUC', 'pAUC', 'official'] },
      detail: [{ field: 'embedder' }, { field: 'metric' }],
    },
  };
}

/** The summary metrics of each labelled layer, in percent, one row per metric. */
function sweepRows(perLayer: VariantResult['perLayer']): { layer: number; metric: string; value: number }[] {
  return perLayer
    .filter((l) => l.metrics !== null)
    .flatMap((l) => {
      const m = l.metrics!;
      const rows = [
        { layer: l.layer, metric: 'AUC', value: 100 * m.auc },
        { layer: l.layer, metric: 'pAUC', value: 100 * m.pauc },
      ];
      if (m.official !== null) rows.push({ layer: l.layer, metric: 'official', value: 100 * m.official });
      return rows;
    });
}

function sweepAxis(variant: VariantResult): Record<string, unknown> {
  return {
    field: 'value',
    type: 'quantitative',
    title: `${variant.summaryStyle === 'dcase2023' ? 'harmonic mean' : 'mean'} over machine types (%)`,
    scale: { zero: false },
    axis: { labelOverlap: true },
  };
}

/** One embedder: one line per metric. */
function singleLayerSweepSpec(variant: VariantResult): VegaLiteSpec | null {
  const values = sweepRows(variant.perLayer);
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Layer sweep — ${variant.id}`,
    width: 2 * WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'layer', type: 'ordinal', title: 'layer', axis: { labelAngle: 0 } },
      y: sweepAxis(variant),
      color: { field: 'metric', type: 'nominal', title: null },
    },
  };
}

/** One run's ROC curve of a machine type, under the name the comparison shows it by. */
export interface RocOverlayInput {
  machineType: string;
  runs: readonly { run: string; roc: RocPoints | null }[];
}

/** The ROC curves (all clips) of several runs on one machine type, overlaid: colour says the run. */
export function rocOverlaySpec(input: RocOverlayInput): VegaLiteSpec | null {
  const values: { run: string; fpr: number; tpr: number; order: number }[] = [];
  for (const { run, roc } of input.runs)
    roc?.fpr.forEach((fpr, i) => values.push({ run, fpr, tpr: roc.tpr[i]!, order: i }));
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${input.machineType} — ROC by run`,
    usermeta: { chart: 'rocOverlay' },
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: rocLayers({
      field: 'run',
      type: 'nominal',
      title: null,
      sort: input.runs.map((r) => r.run),
      legend: { labelLimit: 320 },
    }),
  };
}

/** The clips of one machine type scored by two runs. */
export interface ScoreScatterInput {
  machineType: string;
  runA: string;
  runB: string;
  thresholdA: number;
  thresholdB: number;
  files: readonly { name: string; scoreA: number; scoreB: number; label: string | null; changed: boolean }[];
}

/**
 * What a comparison draws for one machine type of a variant pair, in the panel and in compare.html alike: the two
 * runs' ROC curves overlaid, and each clip's score in A against B with the clips whose decision changed marked.
 */
export function compareMachineSpecs(
  variant: CompareVariant,
  machine: CompareMachine,
  runA: string,
  runB: string,
): { roc: VegaLiteSpec | null; scatter: VegaLiteSpec } {
  const changed = new Set(variant.changed.filter((c) => c.machineType === machine.machineType).map((c) => c.path));
  return {
    roc: rocOverlaySpec({
      machineType: machine.machineType,
      runs: [
        { run: runA, roc: machine.rocA },
        { run: runB, roc: machine.rocB },
      ],
    }),
    scatter: scoreScatterSpec({
      machineType: machine.machineType,
      runA,
      runB,
      thresholdA: machine.thresholdA,
      thresholdB: machine.thresholdB,
      files: machine.files.map((f) => ({ ...f, changed: changed.has(f.path) })),
    }),
  };
}

/**
 * Each clip's score in run A (x) against run B (y), coloured by label, with each run's decision threshold as a dashed
 * rule: clips whose decision changed lie between the rules and are drawn as larger diamonds.
 */
export function scoreScatterSpec(input: ScoreScatterInput): VegaLiteSpec {
  const values = input.files.map((f) => ({
    name: f.name,
    a: f.scoreA,
    b: f.scoreB,
    label: f.label ?? 'unlabelled',
    decision: f.changed ? 'changed' : 'same',
  }));
  const rule = (field: 'a' | 'b', threshold: number): VegaLiteSpec[] =>
    Number.isFinite(threshold)
      ? [
          {
            data: { values: [{ [field]: threshold }] },
            mark: { type: 'rule', strokeDash: [6, 3], opacity: 0.6 },
            encoding: { [field === 'a' ? 'x' : 'y']: { field, type: 'quantitative' } },
          },
        ]
      : [];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${input.machineType} — scores per clip (thresholds dashed)`,
    usermeta: { chart: 'scoreScatter' },
    width: WIDTH,
    height: WIDTH,
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true, opacity: 0.85 },
        encoding: {
          x: {
            field: 'a',
            type: 'quantitative',
            title: `${input.runA} score`,
            scale: { zero: false },
            axis: SCORE_AXIS,
          },
          y: {
            field: 'b',
            type: 'quantitative',
            title: `${input.runB} score`,
            scale: { zero: false },
            axis: SCORE_AXIS,
          },
          color: { field: 'label', type: 'nominal', title: null, sort: ['normal', 'anomaly'] },
          size: {
            field: 'decision',
            type: 'nominal',
            title: 'decision',
            sort: ['same', 'changed'],
            scale: { domain: ['same', 'changed'], range: [30, 120] },
          },
          // Shape and size rather than a fixed outline colour, so the mark reads in light and dark themes.
          shape: {
            field: 'decision',
            type: 'nominal',
            title: 'decision',
            sort: ['same', 'changed'],
            scale: { domain: ['same', 'changed'], range: ['circle', 'diamond'] },
          },
          tooltip: [
            { field: 'name', type: 'nominal', title: 'clip' },
            { field: 'a', type: 'quantitative', format: '.4f', title: input.runA },
            { field: 'b', type: 'quantitative', format: '.4f', title: input.runB },
            { field: 'decision', type: 'nominal' },
          ],
        },
      },
      ...rule('a', input.thresholdA),
      ...rule('b', input.thresholdB),
    ],
  };
}

/** A change of AUC, pAUC or the official score in percentage points, signed (B − A): +1.25, −0.40, 0.00. */
export function formatDelta(d: number | null | undefined, missing = '—'): string {
  if (d === null || d === undefined || !Number.isFinite(d)) return missing;
  const text = formatPercent(Math.abs(d));
  return Number(text) === 0 ? '0.00' : `${d > 0 ? '+' : '−'}${text}`;
}

/**
 * How a comparison names its runs (tables, legends, the panel's title): their names, with the results.json's folder
 * added where two runs share a name.
 */
export function compareRunNames(result: { runs: readonly { name: string; file: string }[] }): string[] {
  const counts = new Map<string, number>();
  for (const r of result.runs) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  return result.runs.map((r) => {
    if ((counts.get(r.name) ?? 0) < 2) return r.name;
    const parts = r.file.split(/[\\/]/);
    return `${r.name} (${parts.length > 1 ? parts[parts.length - 2] : r.file})`;
  });
}

/** The explanation charts (issue 13): one picture each of where in time × frequency a clip's distance comes from. */
const EXPLAIN_WIDTH = 420;
const EXPLAIN_HEIGHT = 160;
const PER_TIME_HEIGHT = 70;

/**
 * Each time step's extent in seconds: from the midpoint with the step before to the midpoint with the step after (the
 * first and last steps mirror their inner half), so the cells tile the clip without gaps whatever the hop.
 */
export function timeCellBounds(timeSeconds: readonly number[]): [number, number][] {
  const n = timeSeconds.length;
  return timeSeconds.map((t, i) => {
    const before = i > 0 ? (t + timeSeconds[i - 1]!) / 2 : undefined;
    const after = i + 1 < n ? (t + timeSeconds[i + 1]!) / 2 : undefined;
    const half = before !== undefined ? t - before : after !== undefined ? after - t : 0.5;
    return [Math.max(0, before ?? t - half), after ?? t + half];
  });
}

/** The time axis both explanation charts share, so the curve sits under the heat map's columns. */
function explainTimeDomain(explain: ExplainResult): [number, number] {
  const bounds = timeCellBounds(explain.grid.timeSeconds);
  return [0, bounds.length > 0 ? bounds[bounds.length - 1]![1] : 1];
}

/** What the grid sums to, in words: the distance, or the distance over the winning bank's σ under DN. */
export function explainSumLabel(explain: ExplainResult): string {
  return explain.dnStats ? 'distance / σ' : 'distance';
}

function hzLabel(hz: number): string {
  return hz >= 1000 ? `${(hz / 1000).toFixed(hz % 1000 === 0 ? 0 : 1)}k` : hz.toFixed(0);
}

/** At most this many time blocks × band blocks are drawn (an fbank-stats grid is 998 × 128 cells at 10 s). */
export const HEATMAP_MAX_TIMES = 100;
export const HEATMAP_MAX_BANDS = 32;

/** How a heat map is drawn: its block limits, and whether each rect carries a tooltip / aria label. */
export interface HeatmapDisplay {
  maxTimes: number;
  maxBands: number;
  /** Interactive charts name each cell; a static SVG would carry ~150 bytes of label per rect. */
  tooltips: boolean;
}

export const INTERACTIVE_HEATMAP: HeatmapDisplay = {
  maxTimes: HEATMAP_MAX_TIMES,
  maxBands: HEATMAP_MAX_BANDS,
  tooltips: true,
};

/**
 * report.html's heat maps: at most 64 × 16 blocks (a 10 s fbank-stats grid in 63 blocks of 16 frames × 16 of 8 mel
 * bins; a BEATs grid's 62 × 8 cell for cell) and no per-rect labels, so six of them keep a two-machine report well
 * under 1.5 MB.
 */
export const REPORT_HEATMAP: HeatmapDisplay = { maxTimes: 64, maxBands: 16, tooltips: false };

/** A grid as drawn: cells summed into blocks, each block's time span and frequency range. */
export interface DisplayGrid {
  times: number;
  bands: number;
  /** Row-major [times × bands]: the sum of the grid's cells in each block, so the total is the grid's. */
  values: number[];
  /** Each time block's [start, end] in seconds: its first cell's start, its last cell's end (timeCellBounds). */
  timeEdges: [number, number][];
  /** Each band block's [low, high] Hz: its first band's low, its last band's high. */
  bandHz: [number, number][];
  /** Cells per block along time / bands (the last block of each may hold fewer). */
  timeBlock: number;
  bandBlock: number;
  aggregated: boolean;
}

/**
 * A grid reduced for DISPLAY to at most maxTimes × maxBands blocks by summing whole cells (contributions add, so the
 * picture keeps the total and each block's share). Grids within the limits (BEATs: 62 × 8 at 10 s) are returned cell
 * for cell. The explanation itself (genrep explain --out, the request's result) keeps every cell.
 */
export function aggregateGrid(
  grid: ExplainGrid,
  maxTimes = HEATMAP_MAX_TIMES,
  maxBands = HEATMAP_MAX_BANDS,
): DisplayGrid {
  const cellEdges = timeCellBounds(grid.timeSeconds);
  const timeBlock = Math.max(1, Math.ceil(grid.times / Math.max(1, maxTimes)));
  const bandBlock = Math.max(1, Math.ceil(grid.bands / Math.max(1, maxBands)));
  const times = Math.ceil(grid.times / timeBlock);
  const bands = Math.ceil(grid.bands / bandBlock);
  const values = new Array<number>(times * bands).fill(0);
  for (let t = 0; t < grid.times; t++) {
    const row = Math.floor(t / timeBlock) * bands;
    // t < grid.times and b < grid.bands index the contract's row-major grid; the block index is below times × bands.
    for (let b = 0; b < grid.bands; b++) values[row + Math.floor(b / bandBlock)]! += grid.values[t * grid.bands + b]!;
  }
  const timeEdges: [number, number][] = [];
  for (let i = 0; i < times; i++) {
    const first = cellEdges[i * timeBlock];
    const last = cellEdges[Math.min(grid.times, (i + 1) * timeBlock) - 1];
    timeEdges.push([first?.[0] ?? i * timeBlock, last?.[1] ?? (i + 1) * timeBlock]);
  }
  const bandHz: [number, number][] = [];
  for (let i = 0; i < bands; i++) {
    const low = grid.bandHz[i * bandBlock];
    const high = grid.bandHz[Math.min(grid.bands, (i + 1) * bandBlock) - 1];
    if (low && high) bandHz.push([low[0], high[1]]);
  }
  return {
    times,
    bands,
    values,
    timeEdges,
    bandHz: bandHz.length === bands ? bandHz : [],
    timeBlock,
    bandBlock,
    aggregated: timeBlock > 1 || bandBlock > 1,
  };
}

/**
 * The time × band contribution heat map: one rect per grid cell (per block of cells for a large grid: aggregateGrid), x = time (s), y = band (its Hz range, low at the
 * bottom), colour = contribution on a diverging scale centred at 0 (a contribution is negative where that part of
 * the clip is closer to the neighbour than the clip as a whole), red = towards anomalous.
 */
export function heatmapSpec(explain: ExplainResult, display: HeatmapDisplay = INTERACTIVE_HEATMAP): VegaLiteSpec {
  const { grid } = explain;
  const shown = aggregateGrid(grid, display.maxTimes, display.maxBands);
  const values: { t0: number; t1: number; band: string; bandIndex: number; contribution: number }[] = [];
  let maxAbs = 0;
  for (let t = 0; t < shown.times; t++) {
    for (let b = 0; b < shown.bands; b++) {
      // t < times and b < bands, and the aggregated grid holds times × bands values, edges and band ranges.
      const contribution = shown.values[t * shown.bands + b]!;
      const hz = shown.bandHz[b];
      values.push({
        t0: shown.timeEdges[t]![0],
        t1: shown.timeEdges[t]![1],
        band: hz ? `${hzLabel(hz[0])}–${hzLabel(hz[1])} Hz` : `band ${b}`,
        bandIndex: b,
        contribution,
      });
      if (Number.isFinite(contribution)) maxAbs = Math.max(maxAbs, Math.abs(contribution));
    }
  }
  const blocks = shown.aggregated
    ? ` · shown in blocks of ${shown.timeBlock} time step${shown.timeBlock === 1 ? '' : 's'} × ${shown.bandBlock} band${shown.bandBlock === 1 ? '' : 's'} (sums; grid ${grid.times} × ${grid.bands})`
    : '';
  const m = maxAbs > 0 ? maxAbs : 1;
  const sum = grid.values.reduce((s, v) => s + v, 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${baseNameOf(explain.clip)} — where the distance comes from`,
      subtitle: `Σ cells = ${sum.toFixed(4)} = ${explainSumLabel(explain)}${grid.decomposition === 'linearised' ? ` (linearised; residual ${grid.residual.toFixed(4)})` : ''}${blocks}`,
    },
    width: EXPLAIN_WIDTH,
    height: EXPLAIN_HEIGHT,
    usermeta: { chart: 'explain-heatmap' },
    data: { values },
    mark: display.tooltips ? { type: 'rect' } : { type: 'rect', aria: false },
    encoding: {
      x: {
        field: 't0',
        type: 'quantitative',
        title: 'time (s)',
        scale: { domain: explainTimeDomain(explain), nice: false, zero: true },
      },
      x2: { field: 't1' },
      y: {
        field: 'band',
        type: 'ordinal',
        title: 'band',
        sort: { field: 'bandIndex', order: 'descending' },
        axis: { labelOverlap: true },
      },
      color: {
        field: 'contribution',
        type: 'quantitative',
        title: 'contribution',
        scale: { type: 'linear', scheme: 'redblue', reverse: true, domain: [-m, m], domainMid: 0 },
      },
      ...(display.tooltips
        ? {
            tooltip: [
              { field: 'band', type: 'ordinal' },
              { field: 't0', type: 'quantitative', title: 'from (s)', format: '.2f' },
              { field: 'contribution', type: 'quantitative', format: '.4f' },
            ],
          }
        : {}),
    },
  };
}

/** The per-time contributions (Σ over bands) as a curve on the heat map's time axis, with a rule at 0. */
export function perTimeSpec(explain: ExplainResult): VegaLiteSpec {
  const values = explain.perTime.map((contribution, i) => ({ time: explain.grid.timeSeconds[i] ?? i, contribution }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `per time step (Σ = ${explainSumLabel(explain)})`, fontSize: 11 },
    width: EXPLAIN_WIDTH,
    height: PER_TIME_HEIGHT,
    usermeta: { chart: 'explain-per-time' },
    data: { values },
    layer: [
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', strokeDash: [3, 3], opacity: 0.5 },
        encoding: { y: { field: 'zero', type: 'quantitative' } },
      },
      {
        mark: { type: 'line', point: values.length <= 64, interpolate: 'linear' },
        encoding: {
          x: {
            field: 'time',
            type: 'quantitative',
            title: 'time (s)',
            scale: { domain: explainTimeDomain(explain), nice: false, zero: true },
          },
          y: { field: 'contribution', type: 'quantitative', title: 'contribution', axis: { tickCount: 3 } },
        },
      },
    ],
  };
}

/** The heat map above its per-time curve in one picture, the two x axes the same (report.html draws this). */
export function explainSpec(explain: ExplainResult, display: HeatmapDisplay = INTERACTIVE_HEATMAP): VegaLiteSpec {
  const strip = (s: VegaLiteSpec): VegaLiteSpec => {
    const { $schema: _schema, ...rest } = s;
    return rest;
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    usermeta: { chart: 'explain' },
    vconcat: [strip(heatmapSpec(explain, display)), strip(perTimeSpec(explain))],
    resolve: { scale: { color: 'independent' } },
  };
}

/** One of a report's top anomalies: the clip, its score, and the picture of why. */
export interface AnomalyHeatmap {
  clip: string;
  score: number;
  distance: number;
  nearest: string | undefined;
  spec: VegaLiteSpec;
}

/**
 * report.html's "top anomalies" of a machine type: the `top` highest-scoring explanations, highest first, each with
 * its heat map and per-time curve (explainSpec); the report renders each spec to SVG (report/renderSvg).
 */
export function topAnomalyHeatmaps(
  explanations: readonly ExplainResult[],
  top = 3,
  display: HeatmapDisplay = REPORT_HEATMAP,
): AnomalyHeatmap[] {
  return [...explanations]
    .filter((e) => Number.isFinite(e.score))
    .sort((a, b) => b.score - a.score)
    .slice(0, Math.max(0, top))
    .map((e) => ({
      clip: e.clip,
      score: e.score,
      distance: e.distance,
      nearest: e.neighbours[0]?.name,
      spec: explainSpec(e, display),
    }));
}

function baseNameOf(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}
