import type { FileScore, MachineResult, Metrics, RunResults, VariantResult } from '../../worker/src/protocol/results';
import type { ScoreFilesResult, ScoredFile } from '../../worker/src/protocol/workerProtocol';
import type { ChartFormat } from '../../worker/src/protocol/webviewProtocol';
import {
  hasLayerSweep,
  histogramSpec,
  layerSweepSpec,
  rocSpec,
  type ScoreContext,
  type VegaLiteSpec,
} from '../../worker/src/protocol/chartSpecs';
import { h, testId } from './dom';
import { gridKey } from './gridKeys';
import { colourBarTicks, frequencyTicks, timeTicks, type AxisTick } from './spectrogram';
import { sortRows, type SortSpec } from './sorting';
import type { ClipView, FileColumn, UiAction } from './state';
import { formatScore, METRIC_COLUMNS, metricCellsText, metricTableData, toCsv, toMarkdown } from './tableExport';
import { readableTimestamp } from './timestamp';

/**
 * The panel's DOM, built from state. Stable data-testid attributes name everything a test or a person may look for:
 * metric-row-<machineType>, roc-plot-<machineType>, histogram-<machineType>, file-table-<machineType>,
 * file-row-<machineType>-<clip name>, layer-sweep, scored-table, scored-row-<clip name>, clip-detail, spectrogram,
 * clip-audio; strip-plot-<machineType> replaces histogram-<machineType> below STRIP_PLOT_BELOW clips; exports:
 * copy-markdown-metrics, copy-csv-metrics, save-svg-<chart testid>, save-png-<chart testid>, open-report;
 * clip-close, spectrogram-colorbar, run-time; explain-button-<row testid> on each file row (the explain view's own
 * testids are listed in explainView.ts). Charts are placeholders here, filled by the caller (rendering is
 * asynchronous).
 */
export interface ViewCallbacks {
  dispatch(action: UiAction): void;
  reveal(file: string): void;
  open(file: string): void;
  /** Put text on the clipboard through the host; `what` names it ("the metric table as Markdown"). */
  copy(text: string, what: string): void;
  /** Save the chart rendered into `element`; `name` suggests the file name. */
  saveChart(element: HTMLElement, name: string, format: ChartFormat): void;
}

export interface ChartSlot {
  element: HTMLElement;
  spec: VegaLiteSpec;
}

/** Scores and thresholds: four decimals. AUC, pAUC and the official score go through formatPercent instead. */
export const fmt = formatScore;

const METRIC_KEYS: (keyof Metrics)[] = ['auc', 'pauc', 'auc_source', 'auc_target', 'official'];

/** Displayed in percent (the convention report.html and the CLI share); data-value keeps the fraction. */
function metricCells(m: Metrics | null): HTMLTableCellElement[] {
  const text = metricCellsText(m);
  return METRIC_KEYS.map((k, i) => {
    const value = m ? m[k] : null;
    return h(
      'td',
      { class: 'num', 'data-metric': k, 'data-value': value === null ? undefined : String(value) },
      text[i] ?? '—',
    );
  });
}

/** Copy as Markdown / Copy as CSV above a metric table. */
function tableExports(variant: VariantResult, cb: ViewCallbacks): HTMLElement {
  const button = (format: 'markdown' | 'csv', label: string): HTMLButtonElement => {
    const b = h('button', { type: 'button', class: 'action', 'data-testid': `copy-${format}-metrics` }, label);
    b.addEventListener('click', () => {
      const data = metricTableData(variant);
      cb.copy(
        format === 'markdown' ? toMarkdown(data) : toCsv(data),
        `the metric table (${variant.id}) as ${format === 'markdown' ? 'Markdown' : 'CSV'}`,
      );
    });
    return b;
  };
  return h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'export the metric table' },
    button('markdown', 'Copy as Markdown'),
    button('csv', 'Copy as CSV'),
  );
}

function metricTable(variant: VariantResult): HTMLElement {
  const head = h('tr', {}, ...METRIC_COLUMNS.map((c) => h('th', { class: c.numeric ? 'num' : undefined }, c.title)));
  const rows = variant.machines.map((m) =>
    h(
      'tr',
      { 'data-testid': testId('metric-row', m.machineType) },
      h('td', {}, m.machineType),
      h('td', { class: 'num' }, String(m.chosenLayer)),
      ...metricCells(m.metrics),
      h('td', { class: 'num', 'data-value': String(m.threshold) }, fmt(m.threshold)),
    ),
  );
  const summary = h(
    'tr',
    { class: 'summary', 'data-testid': 'metric-row-overall' },
    h('td', {}, variant.summaryStyle === 'dcase2023' ? 'harmonic mean' : 'mean'),
    h('td', {}),
    ...metricCells(variant.overall),
    h('td', {}),
  );
  return h(
    'table',
    { class: 'metrics', 'data-testid': 'metric-table' },
    h('thead', {}, head),
    h('tbody', {}, ...rows, summary),
  );
}

const RESULT_COLUMNS: { key: FileColumn; title: string; numeric: boolean }[] = [
  { key: 'name', title: 'clip', numeric: false },
  { key: 'section', title: 'section', numeric: false },
  { key: 'domain', title: 'domain', numeric: false },
  { key: 'label', title: 'label', numeric: false },
  { key: 'score', title: 'score', numeric: true },
  { key: 'd_source', title: 'd source', numeric: true },
  { key: 'd_target', title: 'd target', numeric: true },
  { key: 'decision', title: 'decision', numeric: true },
];
const SCORED_COLUMNS = RESULT_COLUMNS.filter((c) => !['section', 'domain', 'label'].includes(c.key));

type Row = FileScore | (ScoredFile & { name: string });

function cellOf(row: Row, column: FileColumn): string | number | null {
  switch (column) {
    case 'name':
      return row.name;
    case 'section':
    case 'domain':
    case 'label':
      return column in row ? ((row as FileScore)[column] ?? null) : null;
    case 'score':
    case 'd_source':
    case 'd_target':
    case 'decision':
      return row[column];
  }
}

/** A sortable per-file table; `table` keys its sort state (a machine type, or 'scored'). */
export function fileTable(
  table: string,
  rows: readonly Row[],
  columns: typeof RESULT_COLUMNS,
  sort: SortSpec<FileColumn> | undefined,
  selected: string | undefined,
  cb: ViewCallbacks,
  rowId: (row: Row) => string,
  machineType?: string,
): HTMLElement {
  const sorted = sort ? sortRows(rows, sort, cellOf) : [...rows];
  const headers = columns.map((c) => {
    const arrow = sort?.column === c.key ? (sort.direction === 'asc' ? ' ▲' : ' ▼') : '';
    const button = h(
      'button',
      { class: 'sort', type: 'button', 'data-testid': testId('sort', table, c.key), title: `sort by ${c.title}` },
      `${c.title}${arrow}`,
    );
    button.addEventListener('click', () => cb.dispatch({ type: 'ui/sort', table, column: c.key }));
    return h(
      'th',
      {
        role: 'columnheader',
        class: c.numeric ? 'num' : undefined,
        'aria-sort': sort?.column === c.key ? (sort.direction === 'asc' ? 'ascending' : 'descending') : undefined,
      },
      button,
    );
  });
  const bodyRows: HTMLTableRowElement[] = sorted.map((row) => {
    const cells = columns.map((c) => {
      const value = cellOf(row, c.key);
      if (c.key === 'decision')
        return h(
          'td',
          { role: 'gridcell', class: 'num', 'data-value': String(value) },
          value === 1 ? 'anomaly' : 'normal',
        );
      return h(
        'td',
        {
          role: 'gridcell',
          class: c.numeric ? 'num' : undefined,
          'data-value': value === null ? undefined : String(value),
        },
        typeof value === 'number' ? fmt(value) : (value ?? '—'),
      );
    });
    const explain = explainButton(rowId(row), row.path, () => explainRow(row.path));
    const tr = h(
      'tr',
      {
        role: 'row',
        class: row.path === selected ? 'selected' : undefined,
        'aria-selected': row.path === selected ? 'true' : 'false',
        'data-testid': rowId(row),
        'data-path': row.path,
        tabindex: '-1',
        title: `${row.path}\nclick or Enter: play and show the spectrogram; E: explain its score`,
      },
      ...cells,
      h('td', { role: 'gridcell', class: 'explain-cell' }, explain),
    );
    if ('label' in row && row.label === 'anomaly') tr.classList.add('anomaly');
    if (row.decision === 1) tr.classList.add('flagged');
    tr.addEventListener('click', () => {
      focusRow(bodyRows, bodyRows.indexOf(tr), false);
      select(row.path);
    });
    return tr;
  });
  const select = (file: string): void =>
    cb.dispatch({ type: 'ui/selectClip', file, ...(machineType !== undefined ? { machineType } : {}) });
  const explainRow = (file: string): void =>
    cb.dispatch({ type: 'ui/explainClip', file, ...(machineType !== undefined ? { machineType } : {}) });
  // One Tab stop (roving tabindex): the selected row, else the first.
  const start = Math.max(
    0,
    sorted.findIndex((r) => r.path === selected),
  );
  bodyRows[start]?.setAttribute('tabindex', '0');
  const tbody = h('tbody', {}, ...bodyRows);
  tbody.addEventListener('keydown', (e) => {
    const index = bodyRows.indexOf(e.target as HTMLTableRowElement);
    if (index < 0) return;
    if (e.key === 'e' || e.key === 'E') {
      e.preventDefault();
      // index comes from bodyRows.indexOf, and `sorted` holds the rows in bodyRows' order.
      explainRow(sorted[index]!.path);
      return;
    }
    const outcome = gridKey(e.key, index, bodyRows.length);
    if (!outcome) return;
    e.preventDefault();
    if (outcome.kind === 'focus') focusRow(bodyRows, outcome.index, true);
    // gridKey clamps the index into 0..count-1, and `sorted` holds the rows in bodyRows' order.
    else select(sorted[outcome.index]!.path);
  });
  return h(
    'table',
    {
      class: 'files',
      role: 'grid',
      'aria-label': table === 'scored' ? 'scored clips' : `${table} test clips`,
      'aria-rowcount': String(rows.length + 1),
      'data-testid': table === 'scored' ? 'scored-table' : testId('file-table', table),
    },
    h(
      'thead',
      {},
      h('tr', { role: 'row' }, ...headers, h('th', { role: 'columnheader', class: 'explain-cell' }, 'why')),
    ),
    tbody,
  );
}

/**
 * A row's Explain button (explain-button-<row testid>): out of the Tab order like the rest of the grid (the row's E
 * key does the same); its click stops at the button, since explaining selects the clip itself.
 */
function explainButton(rowTestId: string, path: string, explain: () => void): HTMLButtonElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'link explain-button',
      tabindex: '-1',
      'data-testid': `explain-button-${rowTestId}`,
      'aria-label': `Explain the score of ${baseName(path)}`,
      title: 'why this score: heat map over time × frequency, nearest normal clip (E)',
    },
    'Explain',
  );
  button.addEventListener('click', (event) => {
    event.stopPropagation();
    explain();
  });
  return button;
}

/** Moves the table's one Tab stop to row `index` (and the focus with it, for keyboard moves). */
function focusRow(rows: readonly HTMLTableRowElement[], index: number, focus: boolean): void {
  const target = rows[index];
  if (!target) return;
  for (const r of rows) r.setAttribute('tabindex', r === target ? '0' : '-1');
  if (focus) {
    target.focus();
    target.scrollIntoView({ block: 'nearest' });
  }
}

export function resultFileTable(
  machine: MachineResult,
  sort: SortSpec<FileColumn> | undefined,
  selected: string | undefined,
  cb: ViewCallbacks,
): HTMLElement {
  return fileTable(
    machine.machineType,
    machine.files,
    RESULT_COLUMNS,
    sort,
    selected,
    cb,
    (r) => testId('file-row', machine.machineType, r.name),
    machine.machineType,
  );
}

export function scoredFileTable(
  scored: ScoreFilesResult,
  sort: SortSpec<FileColumn> | undefined,
  selected: string | undefined,
  cb: ViewCallbacks,
): HTMLElement {
  const rows = scored.files.map((f) => ({ ...f, name: baseName(f.path) }));
  return fileTable('scored', rows, SCORED_COLUMNS, sort, selected, cb, (r) => testId('scored-row', r.name));
}

export function baseName(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

/**
 * A chart's place: the element vega renders into, with Save as SVG / PNG under it. A score chart drawn as a strip
 * plot (few clips) is named strip-plot-<…> instead of histogram-<…>.
 */
export function chartBox(
  testid: string,
  spec: VegaLiteSpec | null,
  slots: ChartSlot[],
  emptyText: string,
  cb: ViewCallbacks,
): HTMLElement {
  const strip = (spec?.['usermeta'] as { chart?: string } | undefined)?.chart === 'strip';
  const name = strip ? testid.replace(/^histogram-/, 'strip-plot-') : testid;
  const element = h('div', { class: 'chart', 'data-testid': name });
  if (!spec) {
    element.append(h('p', { class: 'muted' }, emptyText));
    return element;
  }
  slots.push({ element, spec });
  const save = (format: ChartFormat): HTMLButtonElement => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'action',
        'data-testid': `save-${format}-${name}`,
        title: `save this chart as ${format}`,
      },
      `Save as ${format.toUpperCase()}`,
    );
    b.addEventListener('click', () => cb.saveChart(element, name, format));
    return b;
  };
  return h(
    'figure',
    { class: 'chart-box' },
    element,
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'save the chart' }, save('svg'), save('png')),
  );
}

/** The whole results view for one variant; returns the chart slots to fill and the table holders to refresh on sort. */
export function resultsView(
  file: string,
  results: RunResults,
  variantIndex: number,
  cb: ViewCallbacks,
): { root: HTMLElement; charts: ChartSlot[]; tables: Map<string, HTMLElement> } {
  const variant = results.variants[variantIndex] ?? results.variants[0]!;
  const charts: ChartSlot[] = [];
  const tables = new Map<string, HTMLElement>();
  const when = h(
    'time',
    { datetime: results.finishedAt, title: results.finishedAt, 'data-testid': 'run-time' },
    readableTimestamp(results.finishedAt),
  );
  const meta = h(
    'p',
    { class: 'meta' },
    when,
    ` · embedder ${results.embedder.id} (${results.embedder.provider}, ${results.embedder.dim} dims, ${results.embedder.pooling} pooling)${comparedEmbedders(results)} · dataset ${results.dataset.root ?? '—'} (${results.dataset.layout}) · features ${results.cache.hits} cached, ${results.cache.extracted} extracted · ${results.timings.totalSec.toFixed(1)} s`,
  );
  const links = h('p', { class: 'links' });
  const openResults = h(
    'button',
    { type: 'button', class: 'link', 'data-testid': 'open-results-json' },
    'results.json',
  );
  openResults.addEventListener('click', () => cb.open(file));
  links.append(openResults);
  if (results.configFile) {
    const openConfig = h('button', { type: 'button', class: 'link', 'data-testid': 'open-config' }, 'run config');
    openConfig.addEventListener('click', () => cb.open(results.configFile!));
    links.append(' · ', openConfig);
  }
  if (results.outputs.includes('report.html')) {
    // The run folder is results.json's; the host opens an .html file in the external browser.
    const report = `${file.slice(0, Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1)}report.html`;
    const openReport = h(
      'button',
      { type: 'button', class: 'action', 'data-testid': 'open-report', title: `open ${report} in the browser` },
      'Open Report',
    );
    openReport.addEventListener('click', () => cb.open(report));
    links.append(' ', openReport);
  }
  const header = h('header', {}, h('h1', { 'data-testid': 'results-title' }, results.name), meta, links);
  if (variant.layerSelection === 'oracle') {
    header.append(
      h(
        'p',
        { class: 'warn', 'data-testid': 'oracle-warning' },
        'Layers are chosen per machine type with the test labels (oracle, as the paper reports): an upper bound, not a deployable result.',
      ),
    );
  }
  if (results.variants.length > 1) {
    const select = h(
      'select',
      { 'data-testid': 'variant-select', 'aria-label': 'variant' },
      ...results.variants.map((v, i) =>
        h('option', { value: String(i), selected: i === variantIndex ? '' : undefined }, v.id),
      ),
    );
    select.addEventListener('change', () => cb.dispatch({ type: 'ui/selectVariant', index: Number(select.value) }));
    header.append(h('label', { class: 'variant' }, 'variant ', select));
  }
  const sections: HTMLElement[] = [
    h(
      'section',
      {},
      h(
        'h2',
        {},
        `Metrics — ${variant.id}`,
        h('small', {}, ` K_n = ${variant.K_n}, ${variant.layerSelection} layer selection`),
      ),
      tableExports(variant, cb),
      metricTable(variant),
    ),
  ];
  if (hasLayerSweep(variant))
    sections.push(
      h(
        'section',
        {},
        h('h2', {}, 'Layer sweep'),
        chartBox('layer-sweep', layerSweepSpec(variant), charts, 'no labelled layers to compare', cb),
      ),
    );
  for (const m of variant.machines) {
    const holder = h('div', { class: 'table-holder' });
    tables.set(m.machineType, holder);
    sections.push(
      h(
        'section',
        { class: 'machine', 'data-testid': testId('machine', m.machineType) },
        h(
          'h2',
          {},
          m.machineType,
          h('small', {}, ` layer ${m.chosenLayer} · threshold ${fmt(m.threshold)} · ${m.files.length} test clips`),
        ),
        h(
          'div',
          { class: 'charts' },
          chartBox(testId('roc-plot', m.machineType), rocSpec(m), charts, 'no ROC: the test clips are unlabelled', cb),
          chartBox(testId('histogram', m.machineType), histogramSpec(m), charts, '', cb),
        ),
        holder,
      ),
    );
  }
  return { root: h('div', { class: 'results' }, header, ...sections), charts, tables };
}

export function scoredView(
  title: string,
  scored: ScoreFilesResult,
  cb: ViewCallbacks,
): { root: HTMLElement; charts: ChartSlot[]; tables: Map<string, HTMLElement> } {
  const charts: ChartSlot[] = [];
  const holder = h('div', { class: 'table-holder' });
  const b = scored.bank;
  const flagged = scored.files.filter((f) => f.decision === 1).length;
  // Scored files are unlabelled; the bank's training scores (when the worker sends them) show where they sit.
  const input = {
    machineType: 'scored files',
    threshold: scored.threshold,
    files: scored.files.map((f) => ({ score: f.score, name: baseName(f.path), label: 'scored clips' })),
  };
  const context: ScoreContext | undefined =
    scored.trainScores && scored.trainScores.length > 0
      ? { label: 'bank training clips (LOO)', scores: scored.trainScores }
      : undefined;
  const bankLink = h(
    'button',
    { type: 'button', class: 'link', 'data-testid': 'reveal-bank' },
    baseName(scored.bankFile),
  );
  bankLink.addEventListener('click', () => cb.reveal(scored.bankFile));
  const root = h(
    'div',
    { class: 'scored', 'data-testid': 'scored-view' },
    h(
      'header',
      {},
      h('h1', { 'data-testid': 'results-title' }, title),
      h(
        'p',
        { class: 'meta' },
        'bank ',
        bankLink,
        ` · embedder ${b.embedder ?? '—'} · layer ${b.layer ?? '—'} · ${b.pooling ?? '—'} pooling · K_n ${b.kn} · threshold ${fmt(scored.threshold)}`,
      ),
      h('p', { 'data-testid': 'scored-summary' }, `${flagged} of ${scored.files.length} flagged as anomalous`),
    ),
    h(
      'section',
      {},
      h('div', { class: 'charts' }, chartBox('histogram-scored', histogramSpec(input, context), charts, '', cb)),
    ),
    h('section', {}, holder),
  );
  return { root, charts, tables: new Map([['scored', holder]]) };
}

/**
 * The clip pane, docked beside the results (never over them): name, reveal and close (Escape closes it too), the
 * spectrogram with its time axis (s), frequency axis (Hz, on the mel-spaced rows) and colour bar (dB), the audio.
 */
export function clipDetail(
  clip: ClipView,
  cb: ViewCallbacks,
): {
  root: HTMLElement;
  canvas: HTMLCanvasElement | undefined;
  colourBar: HTMLCanvasElement | undefined;
  audio: HTMLAudioElement | undefined;
} {
  const reveal = h('button', { type: 'button', class: 'link', 'data-testid': 'reveal-clip' }, 'reveal');
  reveal.addEventListener('click', () => cb.reveal(clip.file));
  const close = h(
    'button',
    {
      type: 'button',
      class: 'close',
      'data-testid': 'clip-close',
      'aria-label': 'Close the clip pane',
      title: 'close (Escape)',
    },
    '×',
  );
  close.addEventListener('click', () => cb.dispatch({ type: 'ui/closeClip' }));
  const root = h(
    'section',
    { class: 'clip-detail', 'data-testid': 'clip-detail', 'data-path': clip.file, 'aria-label': 'clip' },
    h('div', { class: 'clip-head' }, h('h3', { title: clip.file }, baseName(clip.file), ' ', reveal), close),
  );
  let canvas: HTMLCanvasElement | undefined;
  let colourBar: HTMLCanvasElement | undefined;
  let audio: HTMLAudioElement | undefined;
  if (clip.spectrogram) {
    const s = clip.spectrogram;
    canvas = h('canvas', {
      'data-testid': 'spectrogram',
      'aria-label': `log-mel spectrogram of ${baseName(clip.file)}`,
    });
    colourBar = h('canvas', { class: 'colour-bar', 'data-testid': 'spectrogram-colorbar', 'aria-hidden': 'true' });
    root.append(
      h(
        'figure',
        { class: 'spectrogram-figure' },
        h('div', { class: 'axis-title area-ytitle' }, 'Hz'),
        axis('y', frequencyTicks(s.bins), 'spectrogram-frequency-axis', 'yaxis'),
        canvas,
        colourBar,
        axis('y', colourBarTicks(s.min, s.max), 'spectrogram-colorbar-axis', 'caxis'),
        axis('x', timeTicks(s.durationSec), 'spectrogram-time-axis', 'xaxis'),
        h('div', { class: 'axis-title area-xtitle' }, 'time (s)'),
      ),
      h(
        'p',
        { class: 'muted' },
        `log-mel fbank: ${s.bins} mel bins, 20 Hz – 8 kHz (mel-spaced, low at the bottom), ${s.frames} frames of ${s.frameShiftMs} ms, ${s.durationSec.toFixed(2)} s; colour: energy in dB (10·log10 of the mel power)`,
      ),
    );
  } else if (clip.errors.length === 0) {
    root.append(h('p', { class: 'muted', 'data-testid': 'spectrogram-loading' }, 'computing the spectrogram…'));
  }
  if (clip.audio) {
    audio = h('audio', { controls: '', 'data-testid': 'clip-audio', preload: 'auto' });
    root.append(audio);
    if (clip.audio.truncated)
      root.append(h('p', { class: 'muted' }, `playing the first ${clip.audio.durationSec.toFixed(0)} s`));
  }
  for (const e of clip.errors) root.append(h('p', { class: 'error' }, e));
  return { root, canvas, colourBar, audio };
}

/** Tick labels placed along an axis by fraction (CSSOM positions, which the panel's CSP allows). */
export function axis(direction: 'x' | 'y', ticks: readonly AxisTick[], testid: string, area: string): HTMLElement {
  const element = h('div', {
    class: `axis ${direction}-axis area-${area}`,
    'data-testid': testid,
    'aria-hidden': 'true',
  });
  for (const t of ticks) {
    const label = h('span', {}, t.label);
    if (direction === 'x') label.style.left = `${(100 * t.fraction).toFixed(2)}%`;
    else label.style.bottom = `${(100 * t.fraction).toFixed(2)}%`;
    element.append(label);
  }
  return element;
}

/** A run with several embedders reports the first one's layers; the others only join the layer sweep. */
function comparedEmbedders(results: RunResults): string {
  const others = (results.embedders ?? []).slice(1).map((e) => e.id);
  return others.length > 0 ? `, layers reported; compared in the layer sweep with ${others.join(', ')}` : '';
}
