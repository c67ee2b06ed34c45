import type { LayerSelectionMode } from '../protocol/vocabulary';
import type { Metrics } from '../protocol/results';

/**
 * Which layer is reported per machine type.
 * - fixed: one layer for every machine type.
 * - oracle (the paper): each machine type's best layer on its own test labels — an upper bound, never a deployable
 *   choice; results carry the word "oracle".
 * - validation: each machine type gets the layer that is best on the OTHER machine types' test sets (leave one
 *   machine type out), so no label of the machine type being reported is used. With a single machine type there is
 *   nothing to validate on and the fallback layer is used.
 * "Best" = highest official score where domains exist (DCASE 2023), else highest (AUC + pAUC) / 2 (DCASE 2020, as
 * the reference's 2020 script ranks layers).
 */
export function selectionScore(m: Metrics): number {
  return m.official ?? (m.auc + m.pauc) / 2;
}

export function chooseLayers(
  mode: LayerSelectionMode,
  perMachine: ReadonlyMap<string, ReadonlyMap<number, Metrics | null>>,
  fallbackLayer: number,
): Map<string, number> {
  const chosen = new Map<string, number>();
  for (const [machine, ownLayers] of perMachine) {
    const layers = [...ownLayers.keys()];
    const fallback = layers.includes(fallbackLayer) ? fallbackLayer : (layers[0] ?? fallbackLayer);
    if (mode === 'fixed') {
      chosen.set(machine, fallback);
      continue;
    }
    const judges = mode === 'oracle' ? [ownLayers] : [...perMachine].filter(([m]) => m !== machine).map(([, j]) => j);
    let best = fallback;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const layer of layers) {
      const scores = judges.map((judge) => judge.get(layer)).filter((x): x is Metrics => x !== null && x !== undefined);
      if (scores.length === 0 || scores.length < judges.length) continue;
      const s = scores.reduce((acc, m) => acc + selectionScore(m), 0) / scores.length;
      if (s > bestScore) {
        bestScore = s;
        best = layer;
      }
    }
    chosen.set(machine, best);
  }
  return chosen;
}
