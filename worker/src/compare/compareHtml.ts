import type { CompareResult, ComparePair, CompareVariant, MetricDeltas } from '../protocol/compare';
import type { Metrics } from '../protocol/results';
import { compareMachineSpecs, formatDelta, formatPercent } from '../protocol/chartSpecs';
import { renderSvg } from '../report/renderSvg';
import { staticPageHead } from '../report/staticPage';

/**
 * compare.html: one self-contained page like report.html (inline CSS and SVG, no script, no external resource):
 * the delta tables, overlaid ROC curves, per-clip score scatters, changed decisions and config differences. The
 * charts are the Vega-Lite specs the panel's comparison view draws.
 */
export async function renderCompareHtml(result: CompareResult): Promise<string> {
  const names = result.runs.map((r) => r.label);
  const [nameA] = names;
  const sections: string[] = [`<h1>GenRep comparison — ${esc(names.join(' ↔ '))}</h1>`];
  sections.push(
    `<ul class="meta">${result.runs
      .map(
        (r, i) =>
          `<li><b>${i === 0 ? 'A' : `B${result.runs.length > 2 ? i : ''}`}</b>: ${esc(names[i] ?? r.name)} — <code>${esc(r.file)}</code>, ${esc(r.finishedAt)}, embedder ${r.embedders.map((e) => `<code>${esc(e)}</code>`).join(', ')}</li>`,
      )
      .join('')}</ul>`,
  );
  if (result.pairs.length > 1) {
    sections.push(
      `<p class="meta">More than two runs: A (${esc(nameA ?? '')}) is the first, and each other run is compared with A.</p>`,
    );
  }
  for (const pair of result.pairs) sections.push(await pairSection(pair, names));
  return `${staticPageHead(
    `GenRep — compare ${esc(names.join(' ↔ '))}`,
    `.up { color: #1a7f37; } .down { color: #c62828; }
.meta { color: #555; } .warn { background: #fff4d6; padding: 0.5em; border-left: 4px solid #e0a800; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } .wide { overflow-x: auto; }
code { font-size: 90%; }`,
  )}
<body>
${sections.join('\n')}
</body></html>
`;
}

async function pairSection(pair: ComparePair, names: readonly string[]): Promise<string> {
  const a = names[pair.a] ?? 'A';
  const b = names[pair.b] ?? 'B';
  const out = [`<h2>${esc(a)} → ${esc(b)}</h2>`];
  out.push(configDiffSection(pair, pair.b === 1 ? '' : `-${pair.b - 1}`, a, b));
  if (pair.variantsOnlyA.length > 0 || pair.variantsOnlyB.length > 0) {
    out.push(
      `<p class="warn">Variants not compared: ${[
        ...pair.variantsOnlyA.map((v) => `${esc(v)} (only in ${esc(a)})`),
        ...pair.variantsOnlyB.map((v) => `${esc(v)} (only in ${esc(b)})`),
      ].join(', ')}</p>`,
    );
  }
  for (const [i, v] of pair.variants.entries()) out.push(await variantSection(v, idSuffix(pair.b - 1, i), a, b));
  return out.join('\n');
}

function configDiffSection(pair: ComparePair, suffix: string, a: string, b: string): string {
  if (pair.configDiff.length === 0)
    return `<h3>Config differences</h3><p data-testid="compare-config-diff${suffix}">The configs, embedders and chosen layers are the same.</p>`;
  const rows = pair.configDiff.map(
    (d) =>
      `<tr><td><code>${esc(d.path)}</code></td><td><code>${esc(d.a ?? '(absent)')}</code></td><td><code>${esc(d.b ?? '(absent)')}</code></td></tr>`,
  );
  return `<h3>Config differences</h3><table data-testid="compare-config-diff${suffix}"><tr><th>field</th><th>${esc(a)}</th><th>${esc(b)}</th></tr>${rows.join('')}</table>`;
}

const HEADERS = ['AUC', 'pAUC', 'source AUC', 'target AUC', 'official'];
const KEYS = ['auc', 'pauc', 'auc_source', 'auc_target', 'official'] as const;

/** Test ids as the panel gives them (webview-ui/src/compareTable.ts compareIdSuffix): plain for the first pair's main variant. */
function idSuffix(pair: number, variant: number): string {
  return pair === 0 && variant === 0 ? '' : `-${pair}-${variant}`;
}

async function variantSection(v: CompareVariant, suffix: string, a: string, b: string): Promise<string> {
  const out = [`<h3>${v.idA === v.idB ? esc(v.idA) : `${esc(v.idA)} → ${esc(v.idB)}`}</h3>`];
  const missing = [
    ...v.machinesOnlyA.map((m) => `${esc(m)} (only in ${esc(a)})`),
    ...v.machinesOnlyB.map((m) => `${esc(m)} (only in ${esc(b)})`),
  ];
  if (missing.length > 0) out.push(`<p class="warn">Machine types not compared: ${missing.join(', ')}</p>`);
  const header = `<tr><th>machine type</th><th>layer</th>${HEADERS.map((h) => `<th>${h} ${esc(a)}</th><th>${h} ${esc(b)}</th><th>Δ</th>`).join('')}</tr>`;
  const rows = v.machines.map(
    (m) =>
      `<tr data-testid="compare-row-${tid(m.machineType)}${suffix}"><td>${esc(m.machineType)}</td><td>${m.chosenLayerA === m.chosenLayerB ? m.chosenLayerA : `${m.chosenLayerA} → ${m.chosenLayerB}`}</td>${deltaCells(m.metricsA, m.metricsB, m.delta)}</tr>`,
  );
  const summary = v.summaryStyleA === 'dcase2023' ? 'hmean' : 'mean';
  rows.push(
    `<tr class="summary" data-testid="compare-row-${summary}${suffix}"><td>${summary === 'hmean' ? 'harmonic mean' : 'mean'}</td><td></td>${deltaCells(v.overall.a, v.overall.b, v.overall.delta)}</tr>`,
  );
  out.push(
    `<div class="wide"><table data-testid="compare-delta-table${suffix}">${header}${rows.join('')}</table></div>`,
  );
  for (const m of v.machines) {
    const { roc, scatter } = compareMachineSpecs(v, m, a, b);
    const figures = [
      roc ? `<figure data-testid="compare-roc-${tid(m.machineType)}${suffix}">${await renderSvg(roc)}</figure>` : '',
      `<figure data-testid="compare-scatter-${tid(m.machineType)}${suffix}">${await renderSvg(scatter)}</figure>`,
    ];
    const unmatched =
      m.unmatchedA + m.unmatchedB > 0
        ? `<p class="meta">${m.unmatchedA} clip(s) of ${esc(a)} and ${m.unmatchedB} of ${esc(b)} have no match in the other run.</p>`
        : '';
    out.push(`<h4>${esc(m.machineType)}</h4>${unmatched}<div class="charts">${figures.join('')}</div>`);
  }
  out.push(changedSection(v, suffix, a, b));
  return out.join('\n');
}

function changedSection(v: CompareVariant, suffix: string, a: string, b: string): string {
  if (v.changed.length === 0)
    return `<h4>Changed decisions</h4><p data-testid="compare-changed${suffix}">No clip changed its decision.</p>`;
  const decision = (d: 0 | 1): string => (d === 1 ? 'anomaly' : 'normal');
  const rows = v.changed.map(
    (c) =>
      `<tr><td><code>${esc(c.name)}</code></td><td>${esc(c.machineType)}</td><td>${esc(c.label ?? '–')}</td><td>${decision(c.decisionA)} → ${decision(c.decisionB)}</td><td>${fmt(c.scoreA)}</td><td>${fmt(c.scoreB)}</td><td class="${c.effect === 'fixed' ? 'up' : c.effect === 'broken' ? 'down' : ''}">${c.effect ?? ''}</td></tr>`,
  );
  return `<h4>Changed decisions (${v.changed.length})</h4><table data-testid="compare-changed${suffix}"><tr><th>clip</th><th>machine type</th><th>label</th><th>decision</th><th>score ${esc(a)}</th><th>score ${esc(b)}</th><th>effect</th></tr>${rows.join('')}</table>`;
}

function deltaCells(a: Metrics | null, b: Metrics | null, d: MetricDeltas): string {
  return KEYS.map(
    (k) => `<td>${formatPercent(a?.[k], '–')}</td><td>${formatPercent(b?.[k], '–')}</td>${deltaCell(d[k])}`,
  ).join('');
}

function deltaCell(d: number | null): string {
  return `<td class="${d === null || d === 0 ? '' : d > 0 ? 'up' : 'down'}">${formatDelta(d, '–')}</td>`;
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A machine type inside a data-testid, as the panel writes it (webview-ui/src/dom.ts testId). */
function tid(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The stdout summary: per pair, the main variants' hmean (or mean) official score (else AUC) A → B and Δ. */
export function compareSummary(result: CompareResult): string {
  const names = result.runs.map((r) => r.label);
  const lines: string[] = [];
  if (result.pairs.length > 1) lines.push(`A = ${names[0] ?? ''}; each other run compared with A`);
  for (const pair of result.pairs) {
    const v = pair.variants[0];
    if (!v) continue;
    const key =
      typeof v.overall.a?.official === 'number' && typeof v.overall.b?.official === 'number' ? 'official' : 'auc';
    const label = `${v.summaryStyleA === 'dcase2023' ? 'hmean' : 'mean'} ${key === 'official' ? 'official' : 'AUC'}`;
    lines.push(
      `${names[pair.a] ?? 'A'} → ${names[pair.b] ?? 'B'}: ${label} ${formatPercent(v.overall.a?.[key], '–')} → ${formatPercent(v.overall.b?.[key], '–')} (Δ ${formatDelta(v.overall.delta[key], '–')}); ${v.changed.length} changed decision${v.changed.length === 1 ? '' : 's'}; ${pair.configDiff.length} config difference${pair.configDiff.length === 1 ? '' : 's'}`,
    );
  }
  return lines.join('\n');
}
