import { GenrepError } from '../errors';
import type { ExplainResult } from '../protocol/explain';
import type { Metrics, RunResults, VariantResult } from '../protocol/results';
import { formatPercent, hasLayerSweep, histogramSpec, layerSweepSpec, rocSpec } from '../protocol/chartSpecs';
import { renderSvg } from './renderSvg';
import { staticPageHead } from './staticPage';
import { ablationOrder } from './table';
import { topAnomaliesHtml } from './topAnomalies';

/** The main variant's explained top clips per machine type, or the one-line reason a run has none. */
export type ReportExplanations =
  | { explanations: ReadonlyMap<string, readonly ExplainResult[]>; reason?: undefined }
  | { explanations?: undefined; reason: string };

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no external resource), so it opens offline,
 * can be mailed, and shows nothing that depends on a network. Charts are the same Vega-Lite specs the editor's panel
 * draws, rendered to SVG here.
 */
export async function renderReportHtml(results: RunResults, top?: ReportExplanations): Promise<string> {
  const [main] = results.variants;
  if (!main) throw new GenrepError(`${results.name}: results without a variant`, 'INTERNAL');
  const sections: string[] = [];
  sections.push(`<h1>GenRep report — ${esc(results.name)}</h1>`);
  sections.push(`<p class="meta">${esc(results.finishedAt)} · embedder <code>${esc(results.embedder.id)}</code> (${esc(results.embedder.provider)}, ${results.embedder.dim} dims, ${esc(results.embedder.pooling)} pooling) ·
    dataset <code>${esc(results.dataset.root ?? '')}</code> (${esc(results.dataset.layout)}) · features: ${results.cache.hits} cached, ${results.cache.extracted} extracted ·
    ${results.timings.totalSec.toFixed(1)} s</p>`);
  if (results.embedders && results.embedders.length > 1) {
    sections.push(
      `<p class="meta">embedders compared in the layer sweep: ${results.embedders.map((e) => `<code>${esc(e.id)}</code>`).join(', ')}; layers are selected and reported for the first</p>`,
    );
  }
  if (main.layerSelection === 'oracle') {
    sections.push(
      '<p class="warn">Layers are chosen per machine type with the test labels (<b>oracle</b>, as the paper reports): an upper bound, not a deployable result.</p>',
    );
  }
  for (const v of results.variants) sections.push(metricTable(v));
  if (results.variants.length >= 4) sections.push(ablationTable(results.variants));
  const sweep = layerSweepSpec(main);
  if (sweep && hasLayerSweep(main)) sections.push(`<h2>Layer sweep</h2><figure>${await renderSvg(sweep)}</figure>`);
  sections.push(`<h2>Per machine type — ${esc(main.id)}</h2>`);
  if (top?.reason !== undefined) {
    sections.push(`<p class="meta">No top-anomaly heat maps for this run: ${esc(oneLine(top.reason))}</p>`);
  }
  for (const m of main.machines) {
    const roc = rocSpec(m);
    const figures = [roc ? await renderSvg(roc) : '', await renderSvg(histogramSpec(m))].filter(Boolean);
    sections.push(
      `<h3>${esc(m.machineType)} <small>layer ${m.chosenLayer}, threshold ${fmt(m.threshold)}</small></h3><div class="charts">${figures.map((f) => `<figure>${f}</figure>`).join('')}</div>`,
    );
    const explained = top?.explanations?.get(m.machineType);
    if (explained && explained.length > 0) sections.push(await topAnomaliesHtml(explained));
  }
  if (results.dataset.skipped.length > 0) {
    sections.push(
      `<h2>Skipped files</h2><ul>${results.dataset.skipped.map((s) => `<li><code>${esc(s.path)}</code>: ${esc(s.reason)}</li>`).join('')}</ul>`,
    );
  }
  return `${staticPageHead(
    `GenRep — ${esc(results.name)}`,
    `.meta { color: #555; } .warn { background: #fff4d6; padding: 0.5em; border-left: 4px solid #e0a800; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; }
code { font-size: 90%; } figcaption { color: #555; font-size: 90%; }`,
  )}
<body>
${sections.join('\n')}
</body></html>
`;
}

function metricTable(v: VariantResult): string {
  const header =
    '<tr><th>machine type</th><th>layer</th><th>AUC</th><th>pAUC</th><th>source AUC</th><th>target AUC</th><th>official</th></tr>';
  const rows = v.machines.map(
    (m) => `<tr><td>${esc(m.machineType)}</td><td>${m.chosenLayer}</td>${cells(m.metrics)}</tr>`,
  );
  rows.push(
    `<tr class="summary"><td>${v.summaryStyle === 'dcase2023' ? 'harmonic mean' : 'mean'}</td><td></td>${cells(v.overall)}</tr>`,
  );
  const selection = v.layerSelection === 'oracle' ? 'oracle layer selection' : `${v.layerSelection} layer selection`;
  return `<h2>${esc(v.id)} <small>K_n = ${v.K_n}, ${selection}${v.seeds ? `, mean over seeds ${v.seeds.join(', ')}` : ''}</small></h2><table>${header}${rows.join('')}</table>`;
}

function ablationTable(variants: readonly VariantResult[]): string {
  const rows = ablationOrder(variants).map(
    (v) =>
      `<tr><td>${esc(v.dn)}</td><td>${v.mixup ? `K_s = ${v.mixup.K_s}, λ = ${v.mixup.lambda}` : 'off'}</td>${
        v.overall
          ? [v.overall.auc_source, v.overall.auc_target, v.overall.pauc, v.overall.official]
              .map((x) => `<td>${pct(x)}</td>`)
              .join('')
          : '<td colspan="4">-</td>'
      }</tr>`,
  );
  return `<h2>Ablation: domain normalisation × MemMixup (paper Table 2)</h2><table><tr><th>DN</th><th>MemMixup</th><th>source AUC</th><th>target AUC</th><th>pAUC</th><th>official</th></tr>${rows.join('')}</table>`;
}

function cells(m: Metrics | null): string {
  if (!m) return '<td colspan="5">unlabelled test set</td>';
  return [m.auc, m.pauc, m.auc_source, m.auc_target, m.official].map((x) => `<td>${pct(x)}</td>`).join('');
}

/** AUC, pAUC and the official score in percent, as the panel and the CLI show them (chartSpecs.formatPercent). */
const pct = (x: number | null): string => formatPercent(x, '–');
const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A reason as one line of the report (an error message may span several). */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
