import { describe, expect, it } from 'vitest';
import { compareIdSuffix, compareTableData, summaryKey } from '../../webview-ui/src/compareTable';
import { initialState, reduce } from '../../webview-ui/src/state';
import { toMarkdown } from '../../webview-ui/src/tableExport';
import type { CompareResult, CompareVariant } from '../../worker/src/protocol/compare';

const variant = {
  idA: 'dn=transductive mixup=K_s10',
  idB: 'dn=none mixup=K_s5',
  summaryStyleA: 'dcase2023',
  summaryStyleB: 'dcase2023',
  machines: [
    {
      machineType: 'fan',
      chosenLayerA: 1,
      chosenLayerB: 2,
      metricsA: { auc: 0.7, pauc: 0.6, auc_source: 0.8, auc_target: 0.6, official: 0.66 },
      metricsB: { auc: 0.7125, pauc: 0.6, auc_source: 0.75, auc_target: null, official: null },
      delta: { auc: 0.0125, pauc: 0, auc_source: -0.05, auc_target: null, official: null },
    },
  ],
  machinesOnlyA: [],
  machinesOnlyB: [],
  overall: {
    a: { auc: 0.7, pauc: 0.6, auc_source: 0.8, auc_target: 0.6, official: 0.66 },
    b: { auc: 0.71, pauc: 0.6, auc_source: 0.8, auc_target: 0.6, official: 0.67 },
    delta: { auc: 0.01, pauc: 0, auc_source: 0, auc_target: 0, official: 0.01 },
  },
  changed: [],
} as unknown as CompareVariant;

describe('the comparison table', () => {
  it('shows A, B and the signed change in percent per metric, then the summary row', () => {
    const data = compareTableData(variant, 'base', 'no-dn');
    expect(data.columns.map((c) => c.title).slice(0, 5)).toEqual([
      'machine type',
      'layer',
      'AUC base (%)',
      'AUC no-dn (%)',
      'Δ AUC',
    ]);
    expect(data.rows[0]).toEqual([
      'fan',
      '1 → 2',
      ...['70.00', '71.25', '+1.25'],
      ...['60.00', '60.00', '0.00'],
      ...['80.00', '75.00', '−5.00'],
      ...['60.00', '—', '—'],
      ...['66.00', '—', '—'],
    ]);
    expect(data.rows[1]?.slice(0, 5)).toEqual(['harmonic mean', '', '70.00', '71.00', '+1.00']);
    expect(summaryKey(variant)).toBe('hmean');
    const md = toMarkdown(data).split('\n');
    expect(md[0]).toMatch(/^\| machine type \| layer \| AUC base \(%\) \| AUC no-dn \(%\) \| Δ AUC \|/);
    expect(md[2]).toMatch(/^\| fan \| 1 → 2 \| 70\.00 \| 71\.25 \| \+1\.25 \|/);
  });

  it('gives the first pair’s main variant the plain test ids and the others a suffix', () => {
    expect(compareIdSuffix(0, 0)).toBe('');
    expect(compareIdSuffix(0, 1)).toBe('-0-1');
    expect(compareIdSuffix(1, 0)).toBe('-1-0');
  });
});

describe('the panel state with a comparison', () => {
  it('shows it, and no variant selection applies to it', () => {
    const compare: CompareResult = { runs: [], pairs: [] };
    const shown = reduce(initialState, { type: 'show', content: { kind: 'compare', compare } });
    expect(shown.content).toEqual({ kind: 'compare', compare });
    expect(reduce(shown, { type: 'ui/selectVariant', index: 1 })).toBe(shown);
  });
});
