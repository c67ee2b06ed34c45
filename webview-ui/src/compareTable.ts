import { formatDelta, formatPercent } from '../../worker/src/protocol/chartSpecs';
import type { CompareVariant } from '../../worker/src/protocol/compare';
import type { Metrics } from '../../worker/src/protocol/results';
import type { TableData } from './tableExport';

/**
 * The comparison's delta table as the panel shows it and as Markdown for the clipboard (pure, tested without a
 * browser): per machine type and for the summary row, each metric of A, of B and the change B − A, in percent.
 */
const METRICS: readonly { key: keyof Metrics; title: string }[] = [
  { key: 'auc', title: 'AUC' },
  { key: 'pauc', title: 'pAUC' },
  { key: 'auc_source', title: 'source AUC' },
  { key: 'auc_target', title: 'target AUC' },
  { key: 'official', title: 'official' },
];

export function compareTableData(variant: CompareVariant, nameA: string, nameB: string): TableData {
  const columns: TableData['columns'] = [
    { title: 'machine type', numeric: false },
    { title: 'layer', numeric: true },
    ...METRICS.flatMap((m) => [
      { title: `${m.title} ${nameA} (%)`, numeric: true },
      { title: `${m.title} ${nameB} (%)`, numeric: true },
      { title: `Δ ${m.title}`, numeric: true },
    ]),
  ];
  const cells = (a: Metrics | null, b: Metrics | null, d: CompareVariant['overall']['delta']): string[] =>
    METRICS.flatMap((m) => [formatPercent(a?.[m.key]), formatPercent(b?.[m.key]), formatDelta(d[m.key])]);
  const rows = variant.machines.map((m) => [
    m.machineType,
    m.chosenLayerA === m.chosenLayerB ? String(m.chosenLayerA) : `${m.chosenLayerA} → ${m.chosenLayerB}`,
    ...cells(m.metricsA, m.metricsB, m.delta),
  ]);
  rows.push([
    variant.summaryStyleA === 'dcase2023' ? 'harmonic mean' : 'mean',
    '',
    ...cells(variant.overall.a, variant.overall.b, variant.overall.delta),
  ]);
  return { columns, rows };
}

/** The key the summary row's test id uses: `hmean` (DCASE 2023) or `mean`. */
export function summaryKey(variant: CompareVariant): string {
  return variant.summaryStyleA === 'dcase2023' ? 'hmean' : 'mean';
}

/**
 * Test-id suffix of a pair's variant: none for the first pair's main variant (what `compare-delta-table` etc. name),
 * `-<pair>-<variant>` for the others, so every id stays unique on the page.
 */
export function compareIdSuffix(pair: number, variant: number): string {
  return pair === 0 && variant === 0 ? '' : `-${pair}-${variant}`;
}
