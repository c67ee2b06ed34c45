import type { Metrics, RunResults, VariantResult } from '../protocol/results';
import { formatPercent } from '../protocol/chartSpecs';

/** The results as a plain-text table for the terminal: per variant, per machine type, then the summary row. */
export function formatResultsTable(results: RunResults): string {
  const lines: string[] = [];
  for (const v of results.variants) lines.push(...variantTable(v), '');
  if (results.variants.length >= 4) lines.push(...ablationTable(results.variants), '');
  return lines.join('\n');
}

/** AUC, pAUC and the official score in percent, as the panel and report.html show them (chartSpecs.formatPercent). */
const pct = (x: number | null): string => (x === null ? '   -  ' : formatPercent(x, '-').padStart(6));

function row(name: string, layer: string, m: Metrics | null): string {
  return `${name.padEnd(14)} ${layer.padStart(5)}  ${m ? [m.auc, m.pauc, m.auc_source, m.auc_target, m.official].map(pct).join('  ') : '   (unlabelled test set: no metrics)'}`;
}

export function variantTable(v: VariantResult): string[] {
  const selection =
    v.layerSelection === 'oracle'
      ? 'layer chosen per machine type WITH test labels (oracle)'
      : `layer selection: ${v.layerSelection}`;
  const out = [
    `${v.id}  K_n=${v.K_n}  (${selection}${v.seeds ? `; mean over seeds ${v.seeds.join(', ')}` : ''})`,
    `${'machine'.padEnd(14)} ${'layer'.padStart(5)}  ${['AUC', 'pAUC', 'sAUC', 'tAUC', 'score'].map((h) => h.padStart(6)).join('  ')}`,
  ];
  for (const m of v.machines) out.push(row(m.machineType, String(m.chosenLayer), m.metrics));
  out.push(row(v.summaryStyle === 'dcase2023' ? 'hmean' : 'mean', '', v.overall));
  return out;
}

/** The paper's Table 2: DN × MemMixup, source / target AUC, pAUC and official score. */
export function ablationTable(variants: readonly VariantResult[]): string[] {
  const out = [
    'ablation (paper Table 2)',
    `${'DN'.padEnd(13)} ${'MemMixup'.padEnd(9)} ${['sAUC', 'tAUC', 'pAUC', 'score'].map((h) => h.padStart(6)).join('  ')}`,
  ];
  for (const v of ablationOrder(variants)) {
    const m = v.overall;
    out.push(
      `${v.dn.padEnd(13)} ${(v.mixup ? `K_s=${v.mixup.K_s}` : 'off').padEnd(9)} ${m ? [m.auc_source, m.auc_target, m.pauc, m.official].map(pct).join('  ') : '-'}`,
    );
  }
  return out;
}

/** The paper's Table 2 row order: no DN first, MemMixup off before on. */
export function ablationOrder(variants: readonly VariantResult[]): VariantResult[] {
  return [...variants].sort(
    (a, b) => Number(a.dn !== 'none') - Number(b.dn !== 'none') || Number(a.mixup !== null) - Number(b.mixup !== null),
  );
}
