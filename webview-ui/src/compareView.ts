import { compareMachineSpecs } from '../../worker/src/protocol/chartSpecs';
import type { ComparePair, CompareResult, CompareVariant } from '../../worker/src/protocol/compare';
import { compareIdSuffix, compareTableData, summaryKey } from './compareTable';
import { h, testId } from './dom';
import { toMarkdown } from './tableExport';
import { baseName, chartBox, fmt, type ChartSlot, type ViewCallbacks } from './views';

/**
 * The comparison view: for each pair (A against each other run) the config differences, then per compared variant
 * the delta table (compare-delta-table, rows compare-row-<machine type> and compare-row-hmean|mean), the overlaid ROC
 * curves (compare-roc-<machine type>), the per-clip score scatter (compare-scatter-<machine type>) and the clips whose
 * decision changed (compare-changed; a row plays the clip). Ids of pairs and variants after the first carry
 * compareIdSuffix.
 */
export function compareView(
  result: CompareResult,
  cb: ViewCallbacks,
): { root: HTMLElement; charts: ChartSlot[]; tables: Map<string, HTMLElement> } {
  const charts: ChartSlot[] = [];
  const names = result.runs.map((r) => r.label);
  const runs = h(
    'ul',
    { class: 'meta', 'data-testid': 'compare-runs' },
    ...result.runs.map((r, i) => {
      const open = h('button', { type: 'button', class: 'link' }, baseName(r.file));
      open.addEventListener('click', () => cb.open(r.file));
      return h(
        'li',
        {},
        `${i === 0 ? 'A' : result.runs.length > 2 ? `B${i}` : 'B'}: ${names[i] ?? r.name} · ${r.finishedAt} · embedder ${r.embedders.join(', ')} · `,
        open,
      );
    }),
  );
  const note =
    result.pairs.length > 1
      ? h(
          'p',
          { class: 'meta' },
          `More than two runs: A (${names[0] ?? ''}) is the first, each other run is compared with A.`,
        )
      : null;
  const root = h(
    'div',
    { class: 'compare', 'data-testid': 'compare-view' },
    h('header', {}, h('h1', { 'data-testid': 'results-title' }, `Compare · ${names.join(' ↔ ')}`), runs, note),
    ...result.pairs.map((pair, p) => pairSection(pair, p, names, charts, cb)),
  );
  return { root, charts, tables: new Map() };
}

function pairSection(
  pair: ComparePair,
  p: number,
  names: readonly string[],
  charts: ChartSlot[],
  cb: ViewCallbacks,
): HTMLElement {
  const a = names[pair.a] ?? 'A';
  const b = names[pair.b] ?? 'B';
  const skipped = [
    ...pair.variantsOnlyA.map((v) => `${v} (only in ${a})`),
    ...pair.variantsOnlyB.map((v) => `${v} (only in ${b})`),
  ];
  return h(
    'section',
    { class: 'compare-pair' },
    h('h2', {}, `${a} → ${b}`),
    configDiff(pair, p, a, b),
    skipped.length > 0 ? h('p', { class: 'warn' }, `Variants not compared: ${skipped.join(', ')}`) : null,
    ...pair.variants.map((v, i) => variantSection(v, compareIdSuffix(p, i), a, b, charts, cb)),
  );
}

function configDiff(pair: ComparePair, p: number, a: string, b: string): HTMLElement {
  const id = `compare-config-diff${p === 0 ? '' : `-${p}`}`;
  const heading = h('h3', {}, 'Config differences');
  if (pair.configDiff.length === 0)
    return h(
      'div',
      {},
      heading,
      h('p', { 'data-testid': id }, 'The configs, embedders and chosen layers are the same.'),
    );
  const rows = pair.configDiff.map((d) =>
    h(
      'tr',
      {},
      h('td', {}, h('code', {}, d.path)),
      h('td', {}, h('code', {}, d.a ?? '(absent)')),
      h('td', {}, h('code', {}, d.b ?? '(absent)')),
    ),
  );
  return h(
    'div',
    {},
    heading,
    h(
      'table',
      { class: 'metrics', 'data-testid': id },
      h('thead', {}, h('tr', {}, h('th', {}, 'field'), h('th', {}, a), h('th', {}, b))),
      h('tbody', {}, ...rows),
    ),
  );
}

function variantSection(
  v: CompareVariant,
  suffix: string,
  a: string,
  b: string,
  charts: ChartSlot[],
  cb: ViewCallbacks,
): HTMLElement {
  const data = compareTableData(v, a, b);
  const keys = [...v.machines.map((m) => m.machineType), summaryKey(v)];
  const table = h(
    'table',
    { class: 'metrics', 'data-testid': `compare-delta-table${suffix}` },
    h('thead', {}, h('tr', {}, ...data.columns.map((c) => h('th', { class: c.numeric ? 'num' : undefined }, c.title)))),
    h(
      'tbody',
      {},
      ...data.rows.map((row, i) =>
        h(
          'tr',
          {
            'data-testid': `${testId('compare-row', keys[i] ?? '')}${suffix}`,
            class: i === keys.length - 1 ? 'summary' : undefined,
          },
          ...row.map((cell, j) =>
            h(
              'td',
              {
                class: data.columns[j]?.numeric
                  ? `num${cell.startsWith('+') ? ' up' : cell.startsWith('−') ? ' down' : ''}`
                  : undefined,
              },
              cell,
            ),
          ),
        ),
      ),
    ),
  );
  const copy = h(
    'button',
    { type: 'button', class: 'action', 'data-testid': `compare-copy-markdown${suffix}` },
    'Copy as Markdown',
  );
  copy.addEventListener('click', () =>
    cb.copy(toMarkdown(data), `the comparison table (${v.idA} → ${v.idB}) as Markdown`),
  );
  const missing = [
    ...v.machinesOnlyA.map((m) => `${m} (only in ${a})`),
    ...v.machinesOnlyB.map((m) => `${m} (only in ${b})`),
  ];
  const machineCharts = v.machines.map((m) => {
    const { roc, scatter } = compareMachineSpecs(v, m, a, b);
    const unmatched =
      m.unmatchedA + m.unmatchedB > 0
        ? h(
            'p',
            { class: 'muted' },
            `${m.unmatchedA} clip(s) of ${a} and ${m.unmatchedB} of ${b} have no match in the other run.`,
          )
        : null;
    return h(
      'div',
      {},
      h('h4', {}, m.machineType),
      unmatched,
      h(
        'div',
        { class: 'charts' },
        chartBox(`${testId('compare-roc', m.machineType)}${suffix}`, roc, charts, 'unlabelled: no ROC curve', cb),
        chartBox(`${testId('compare-scatter', m.machineType)}${suffix}`, scatter, charts, '', cb),
      ),
    );
  });
  return h(
    'section',
    { class: 'compare-variant' },
    h('h3', {}, v.idA === v.idB ? v.idA : `${v.idA} → ${v.idB}`),
    missing.length > 0 ? h('p', { class: 'warn' }, `Machine types not compared: ${missing.join(', ')}`) : null,
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'export the comparison table' }, copy),
    h('div', { class: 'wide' }, table),
    ...machineCharts,
    changedClips(v, suffix, a, b, cb),
  );
}

function changedClips(v: CompareVariant, suffix: string, a: string, b: string, cb: ViewCallbacks): HTMLElement {
  const id = `compare-changed${suffix}`;
  const heading = h('h4', {}, `Changed decisions (${v.changed.length})`);
  if (v.changed.length === 0)
    return h('div', {}, heading, h('p', { 'data-testid': id }, 'No clip changed its decision.'));
  const decision = (d: 0 | 1): string => (d === 1 ? 'anomaly' : 'normal');
  const rows = v.changed.map((c) => {
    const row = h(
      'tr',
      { tabindex: '0', 'data-path': c.path, 'data-testid': testId('compare-changed-row', c.name) },
      h('td', {}, c.name),
      h('td', {}, c.machineType),
      h('td', {}, c.label ?? '—'),
      h('td', {}, `${decision(c.decisionA)} → ${decision(c.decisionB)}`),
      h('td', { class: 'num' }, fmt(c.scoreA)),
      h('td', { class: 'num' }, fmt(c.scoreB)),
      h('td', { class: c.effect === 'fixed' ? 'up' : c.effect === 'broken' ? 'down' : undefined }, c.effect ?? ''),
    );
    const play = (): void => cb.dispatch({ type: 'ui/selectClip', file: c.path, machineType: c.machineType });
    row.addEventListener('click', play);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') play();
    });
    return row;
  });
  const head = ['clip', 'machine type', 'label', 'decision', `score ${a}`, `score ${b}`, 'effect'];
  return h(
    'div',
    {},
    heading,
    h(
      'table',
      { class: 'files', 'data-testid': id },
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows),
    ),
  );
}
