import type { RunConfig } from '../protocol/runConfig';
import { PAPER_DEFAULTS, type DnMode, type MemMixup } from '../protocol/vocabulary';

/** One column of the experiment grid: a DN mode with MemMixup on (its K_s, λ) or off. */
export interface Variant {
  dn: DnMode;
  mixup: MemMixup | null;
}

/** e.g. "dn=transductive mixup=K_s990": unique within a run, the variant's id in results.json. */
export function variantId(v: Variant): string {
  return `dn=${v.dn} mixup=${v.mixup ? `K_s${v.mixup.K_s}` : 'off'}`;
}

/**
 * The config's DN mode(s) with its MemMixup, main variant first; with `ablation`, also every DN on/off × MemMixup
 * on/off cell (the paper's Table 2).
 */
export function variantsOf(config: RunConfig, log: (line: string) => void): Variant[] {
  const dnModes = Array.isArray(config.dn) ? config.dn : [config.dn];
  const mixup = config.mixup.K_s > 0 ? { K_s: config.mixup.K_s, lambda: config.mixup.lambda } : null;
  const out: Variant[] = dnModes.map((dn) => ({ dn, mixup }));
  if (config.ablation) {
    const dnOn = dnModes.find((d) => d !== 'none') ?? PAPER_DEFAULTS.dn;
    const grid: Variant[] = [
      { dn: 'none', mixup: null },
      { dn: 'none', mixup },
      { dn: dnOn, mixup: null },
      { dn: dnOn, mixup },
    ];
    if (!mixup) log('ablation: MemMixup is off in this config (mixup.K_s = 0), so the ablation has no MemMixup column');
    for (const v of grid) if (!out.some((o) => variantId(o) === variantId(v))) out.push(v);
  }
  return out;
}
