import { describe, expect, it } from 'vitest';
import type { RunResults, VariantResult } from '../../worker/src/protocol/results';
import { formatPercent } from '../../worker/src/protocol/chartSpecs';
import { renderReportHtml } from '../../worker/src/report/reportHtml';
import { formatResultsTable } from '../../worker/src/report/table';

/** One convention for AUC, pAUC and the official score wherever they are displayed: percent, two decimals. */
const metrics = { auc: 0.73789, pauc: 0.61234, auc_source: 0.8, auc_target: 0.7, official: 0.65 };
const variant = {
  id: 'dn=transductive',
  K_n: 1,
  layerSelection: 'fixed',
  summaryStyle: 'dcase2023',
  dn: 'transductive',
  mixup: null,
  seeds: null,
  perLayer: [],
  machines: [{ machineType: 'fan', chosenLayer: 4, threshold: 1.5, metrics, roc: null, files: [] }],
  overall: metrics,
} as unknown as VariantResult;
const results = {
  name: 'demo',
  finishedAt: '2026-12-03T21:55:45.000Z',
  embedder: { id: 'fbank-stats', provider: 'builtin', dim: 256, pooling: 'mean' },
  dataset: { root: '/d', layout: 'dcase2023', skipped: [] },
  cache: { hits: 0, extracted: 1 },
  timings: { totalSec: 1 },
  variants: [variant],
} as unknown as RunResults;

describe('percent display', () => {
  it('formats fractions as percent with two decimals and a marker for missing values', () => {
    expect(formatPercent(0.73789)).toBe('73.79');
    expect(formatPercent(1)).toBe('100.00');
    expect(formatPercent(null)).toBe('—');
    expect(formatPercent(Number.NaN, '-')).toBe('-');
  });

  it('is what the CLI table prints', () => {
    const table = formatResultsTable(results);
    expect(table).toContain(' 73.79   61.23   80.00   70.00   65.00');
    expect(table).not.toContain('0.7379');
  });

  it('is what report.html prints', async () => {
    const html = await renderReportHtml(results);
    expect(html).toContain('<td>73.79</td><td>61.23</td><td>80.00</td><td>70.00</td><td>65.00</td>');
    expect(html).not.toContain('0.7379');
  });
});
