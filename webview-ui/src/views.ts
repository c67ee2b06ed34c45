import type { FileScore, MachineResult, Metrics, RunResults, VariantResult } from '../../worker/src/protocol/results';
import type { ScoreFilesResult, ScoredFile } from '../../worker/src/protocol/workerProtocol';
import { histogramSpec, layerSweepSpec, rocSpec, type VegaLiteSpec } from '../../worker/src/protocol/chartSpecs';
import { h, testId } from './dom';
import { sortRows, type SortSpec } from './sorting';
import type { ClipView, FileColumn, UiAction } from './state';

/**
 * The panel's DOM, built from state. Stable data-testid attributes name everything a test or a person may look for:
 * metric-row-<machineType>, roc-plot-<machineType>, histogram-<machineType>, file-table-<machineType>,
 * file-row-<machineType>-<clip name>, layer-sweep, scored-table, scored-row-<clip name>, clip-detail, spectrogram,
 * clip-audio. Charts are placeholders here, filled by the caller (rendering is asynchronous).
 */
export interface ViewCallbacks {
  dispatch(action: UiAction): void;
  reveal(file: string): void;
  open(file: string): void;
}

export interface ChartSlot {
  element: HTMLElement;
  spec: VegaLiteSpec;
}

export function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

function metricCells(m: Metrics | null): HTMLTableCellElement[] {
  const keys: (keyof Metrics)[] = ['auc', 'pauc', 'auc_source', 'auc_target', 'official'];
  return keys.map((k) => {
    const value = m ? m[k] : null;
    return h(
      'td',
      { class: 'num', 'data-metric': k, 'data-value': value === null ? undefined : String(value) },
      fmt(value),
    );
  });
}

function metricTable(variant: VariantResult): HTMLElement {
  const head = h(
    'tr',
    {},
    ...['machine type', 'layer', 'AUC', 'pAUC', 'source AUC', 'target AUC', 'official', 'threshold'].map((t) =>
      h('th', {}, t),
    ),
  );
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
        class: c.numeric ? 'num' : undefined,
        'aria-sort': sort?.column === c.key ? (sort.direction === 'asc' ? 'ascending' : 'descending') : undefined,
      },
      button,
    );
  });
  const body = sorted.map((row) => {
    const cells = columns.map((c) => {
      const value = cellOf(row, c.key);
      if (c.key === 'decision')
        return h('td', { class: 'num', 'data-value': String(value) }, value === 1 ? 'anomaly' : 'normal');
      return h(
        'td',
        { class: c.numeric ? 'num' : undefined, 'data-value': value === null ? undefined : String(value) },
        typeof value === 'number' ? fmt(value) : (value ?? '—'),
      );
    });
    const tr = h(
      'tr',
      {
        class: row.path === selected ? 'selected' : undefined,
        'data-testid': rowId(row),
        'data-path': row.path,
        tabindex: '0',
        title: `${row.path}\nclick: play and show the spectrogram`,
      },
      ...cells,
    );
    if ('label' in row && row.label === 'anomaly') tr.classList.add('anomaly');
    if (row.decision === 1) tr.classList.add('flagged');
    const select = (): void =>
      cb.dispatch({ type: 'ui/selectClip', file: row.path, ...(machineType !== undefined ? { machineType } : {}) });
    tr.addEventListener('click', select);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select();
      }
    });
    return tr;
  });
  return h(
    'table',
    { class: 'files', 'data-testid': table === 'scored' ? 'scored-table' : testId('file-table', table) },
    h('thead', {}, h('tr', {}, ...headers)),
    h('tbody', {}, ...body),
  );
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

function chartBox(testid: string, spec: VegaLiteSpec | null, slots: ChartSlot[], emptyText: string): HTMLElement {
  const element = h('div', { class: 'chart', 'data-testid': testid });
  if (spec) slots.push({ element, spec });
  else element.append(h('p', { class: 'muted' }, emptyText));
  return element;
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
  const meta = h(
    'p',
    { class: 'meta' },
    `${results.finishedAt} · embedder ${results.embedder.id} (${results.embedder.provider}, ${results.embedder.dim} dims, ${results.embedder.pooling} pooling) · dataset ${results.dataset.root ?? '—'} (${results.dataset.layout}) · features ${results.cache.hits} cached, ${results.cache.extracted} extracted · ${results.timings.totalSec.toFixed(1)} s`,
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
      metricTable(variant),
    ),
  ];
  if (variant.perLayer.length > 1)
    sections.push(
      h(
        'section',
        {},
        h('h2', {}, 'Layer sweep'),
        chartBox('layer-sweep', layerSweepSpec(variant), charts, 'no labelled layers to compare'),
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
          chartBox(testId('roc-plot', m.machineType), rocSpec(m), charts, 'no ROC: the test clips are unlabelled'),
          chartBox(testId('histogram', m.machineType), histogramSpec(m), charts, ''),
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
  // The shared histogram spec draws FileScores of a machine type; scored files are unlabelled ones.
  const pseudo = {
    machineType: 'scored files',
    threshold: scored.threshold,
    files: scored.files.map((f) => ({ ...f, name: baseName(f.path), section: '', domain: null, label: null })),
  } as unknown as MachineResult;
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
    h('section', {}, h('div', { class: 'charts' }, chartBox('histogram-scored', histogramSpec(pseudo), charts, ''))),
    h('section', {}, holder),
  );
  return { root, charts, tables: new Map([['scored', holder]]) };
}

export function clipDetail(
  clip: ClipView,
  cb: ViewCallbacks,
): { root: HTMLElement; canvas: HTMLCanvasElement | undefined; audio: HTMLAudioElement | undefined } {
  const reveal = h('button', { type: 'button', class: 'link', 'data-testid': 'reveal-clip' }, 'reveal');
  reveal.addEventListener('click', () => cb.reveal(clip.file));
  const root = h(
    'section',
    { class: 'clip-detail', 'data-testid': 'clip-detail', 'data-path': clip.file },
    h('h3', {}, baseName(clip.file), ' ', reveal),
  );
  let canvas: HTMLCanvasElement | undefined;
  let audio: HTMLAudioElement | undefined;
  if (clip.spectrogram) {
    const s = clip.spectrogram;
    canvas = h('canvas', {
      'data-testid': 'spectrogram',
      'aria-label': `log-mel spectrogram of ${baseName(clip.file)}`,
    });
    root.append(
      canvas,
      h(
        'p',
        { class: 'muted' },
        `log-mel fbank: ${s.bins} mel bins (low at the bottom), ${s.frames} frames of ${s.frameShiftMs} ms, ${s.durationSec.toFixed(2)} s`,
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
  return { root, canvas, audio };
}
