import type { ExplainResult } from '../protocol/explain';

/** Index of the largest value (the first on ties), -1 for none. */
function argmax(xs: readonly number[]): number {
  let best = -1;
  xs.forEach((x, i) => {
    if (best < 0 || x > xs[best]!) best = i;
  });
  return best;
}

/** A few lines for a terminal: score, distance, the time step and band that contribute most, the nearest clip. */
export function explainSummary(e: ExplainResult): string {
  const t = argmax(e.perTime);
  const b = argmax(e.perBand);
  const time = e.grid.timeSeconds[t];
  const band = e.grid.bandHz[b];
  const near = e.neighbours[0];
  const dn = e.dnStats ? ` (DN ${e.dn}: μ ${e.dnStats.mean.toPrecision(4)}, σ ${e.dnStats.std.toPrecision(4)})` : '';
  return [
    `clip: ${e.clip}`,
    `score ${e.score.toPrecision(6)}, distance ${e.distance.toPrecision(6)} to the ${e.bank} bank${dn}`,
    ...(time !== undefined ? [`most anomalous time: ${time.toFixed(2)} s (${e.perTime[t]!.toPrecision(3)})`] : []),
    ...(band
      ? [`most anomalous band: ${Math.round(band[0])}–${Math.round(band[1])} Hz (${e.perBand[b]!.toPrecision(3)})`]
      : []),
    ...(near ? [`nearest normal clip: ${near.name} (distance ${near.distance.toPrecision(6)})`] : []),
    ...(e.grid.decomposition === 'linearised' ? [`linearised split, residual ${e.grid.residual.toPrecision(3)}`] : []),
  ].join('\n');
}
