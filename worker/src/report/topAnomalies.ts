import type { ExplainResult } from '../protocol/explain';
import { topAnomalyHeatmaps } from '../protocol/chartSpecs';
import { renderSvg } from './renderSvg';

/**
 * report.html's "Top anomalies" of one machine type: the `top` highest-scoring explained clips, each as its heat map
 * over time × band with the per-time curve under it (static SVG, the same specs the panel's explain view follows),
 * captioned with the score, the distance and the nearest normal clip. An HTML fragment for reportHtml.ts to place
 * under the machine type's charts; empty when there is nothing to show.
 */
export async function topAnomaliesHtml(explanations: readonly ExplainResult[], top = 3): Promise<string> {
  const picked = topAnomalyHeatmaps(explanations, top);
  if (picked.length === 0) return '';
  const figures: string[] = [];
  for (const a of picked) {
    const caption = `${esc(baseName(a.clip))} — score ${a.score.toFixed(3)}, distance ${a.distance.toFixed(3)}${a.nearest !== undefined ? `, nearest normal ${esc(a.nearest)}` : ''}`;
    figures.push(`<figure>${await renderSvg(a.spec)}<figcaption>${caption}</figcaption></figure>`);
  }
  return `<h4>Top anomalies — where the distance comes from</h4><div class="charts">${figures.join('')}</div>`;
}

function baseName(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
