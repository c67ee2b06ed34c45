import { formatPercent } from '../../worker/src/protocol/chartSpecs';
import type { Metrics, VariantResult } from '../../worker/src/protocol/results';

/**
 * A metric table as the panel shows it, and as Markdown or CSV for the clipboard: pure, so what a user pastes is
 * tested without a browser. Cells are the displayed text (AUC, pAUC, official in percent, formatPercent).
 */
export interface TableData {
  columns: { title: string; numeric: boolean }[];
  rows: string[][];
}

const METRIC_KEYS: readonly (keyof Metrics)[] = ['auc', 'pauc', 'auc_source', 'auc_target', 'official'];

export const METRIC_COLUMNS: TableData['columns'] = [
  { title: 'machine type', numeric: false },
  { title: 'layer', numeric: true },
  { title: 'AUC (%)', numeric: true },
  { title: 'pAUC (%)', numeric: true },
  { title: 'source AUC (%)', numeric: true },
  { title: 'target AUC (%)', numeric: true },
  { title: 'official (%)', numeric: true },
  { title: 'threshold', numeric: true },
];

/** A score threshold (not a metric): four decimals, as the per-file tables show scores. */
export function formatScore(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(4);
}

export function metricCellsText(m: Metrics | null): string[] {
  return METRIC_KEYS.map((k) => formatPercent(m ? m[k] : null));
}

/** One row per machine type, then the summary row (harmonic mean or mean) without layer and threshold. */
export function metricTableData(variant: VariantResult): TableData {
  const rows = variant.machines.map((m) => [
    m.machineType,
    String(m.chosenLayer),
    ...metricCellsText(m.metrics),
    formatScore(m.threshold),
  ]);
  rows.push([
    variant.summaryStyle === 'dcase2023' ? 'harmonic mean' : 'mean',
    '',
    ...metricCellsText(variant.overall),
    '',
  ]);
  return { columns: METRIC_COLUMNS, rows };
}

/** GitHub-flavoured Markdown: numeric columns right-aligned; `|` escaped and line breaks flattened in cells. */
export function toMarkdown(table: TableData): string {
  const cell = (s: string): string =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/\|/g, '\\|')
      .replace(/\r?\n|\r/g, ' ');
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [
    line(table.columns.map((c) => c.title)),
    `| ${table.columns.map((c) => (c.numeric ? '---:' : '---')).join(' | ')} |`,
    ...table.rows.map(line),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** RFC 4180 CSV: a field with a comma, quote or line break is quoted, quotes doubled; lines end in CRLF. */
export function toCsv(table: TableData): string {
  const field = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [table.columns.map((c) => c.title), ...table.rows]
    .map((cells) => `${cells.map(field).join(',')}\r\n`)
    .join('');
}
