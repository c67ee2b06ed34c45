/**
 * The Vega-Lite chart specs that the results panel renders live and report.html renders headless to SVG: part of
 * the panel's contract, so they live beside the types they draw and import nothing else of ours. The one runtime
 * module the panel takes from the worker tree (eslint.config.mjs allows exactly this file).
 */
import type { MachineResult, VariantResult } from './results';

/**
 * Vega-Lite specs for every chart the product draws, as pure functions of the results: the editor's panel renders
 * them in the webview and report.html renders the same specs headless to SVG, so both show the same pictures.
 * Data is always inline (no URLs): vega's loader never fetches anything. Colours are left to the renderer's config,
 * so the webview can follow the editor's theme.
 */
export type VegaLiteSpec = Record<string, unknown>;

const WIDTH = 260;
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
    layer: [
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
          color: { field: 'curve', type: 'nominal', title: null, sort: ['all', 'source', 'target'] },
          order: { field: 'order', type: 'quantitative' },
        },
      },
    ],
  };
}

/** Score histograms of normal and anomalous test clips, with the decision threshold as a rule. */
export function histogramSpec(machine: MachineResult): VegaLiteSpec {
  const values = machine.files.map((f) => ({ score: f.score, label: f.label ?? 'unlabelled' }));
  const layers: VegaLiteSpec[] = [
    {
      mark: { type: 'bar', opacity: 0.6 },
      encoding: {
        x: { field: 'score', type: 'quantitative', bin: { maxbins: 30 }, title: 'anomaly score' },
        y: { aggregate: 'count', type: 'quantitative', stack: null, title: 'clips' },
        color: { field: 'label', type: 'nominal', title: null, sort: ['normal', 'anomaly'] },
      },
    },
  ];
  if (Number.isFinite(machine.threshold)) {
    layers.push({
      data: { values: [{ threshold: machine.threshold }] },
      mark: { type: 'rule', strokeDash: [6, 3], strokeWidth: 2 },
      encoding: { x: { field: 'threshold', type: 'quantitative' } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${machine.machineType} — scores (threshold dashed)`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: layers,
  };
}

/** The paper's Fig. 1: the summary score of every layer with all machine types at that layer. */
export function layerSweepSpec(variant: VariantResult): VegaLiteSpec | null {
  const values = variant.perLayer
    .filter((l) => l.metrics !== null)
    .flatMap((l) => {
      const m = l.metrics!;
      const rows = [
        { layer: l.layer, metric: 'AUC', value: m.auc },
        { layer: l.layer, metric: 'pAUC', value: m.pauc },
      ];
      if (m.official !== null) rows.push({ layer: l.layer, metric: 'official', value: m.official });
      return rows;
    });
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Layer sweep — ${variant.id}`,
    width: 2 * WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'layer', type: 'ordinal', title: 'layer' },
      y: {
        field: 'value',
        type: 'quantitative',
        title: variant.summaryStyle === 'dcase2023' ? 'harmonic mean over machine types' : 'mean over machine types',
        scale: { zero: false },
      },
      color: { field: 'metric', type: 'nominal', title: null },
    },
  };
}
