import type { ExplainNeighbour, ExplainResult } from '../../worker/src/protocol/explain';
import { timeCellBounds } from '../../worker/src/protocol/chartSpecs';
import { FBANK_HIGH_HZ, FBANK_LOW_HZ } from './spectrogram';
import { formatScore } from './tableExport';

/**
 * The explain view's pure parts: the score decomposition in words, the neighbours' labels, and where the heat map's
 * cells and the per-time curve fall on the clip's spectrogram (fractions of its width and height, so they align
 * with it at any size).
 */

/** Σ grid = distance (or distance ÷ σ under DN), then how the score follows from it. */
export function decompositionLines(e: ExplainResult): string[] {
  const sum = e.grid.values.reduce((s, v) => s + v, 0);
  const of = `mean distance to the ${e.K_n} nearest row${e.K_n === 1 ? '' : 's'} of the '${e.bank}' bank`;
  const residual =
    e.grid.decomposition === 'linearised'
      ? ` (linearised: Σ grid + residual ${formatScore(e.grid.residual)})`
      : ' (exact)';
  const lines = [`distance = ${formatScore(e.distance)}: the ${of}`];
  if (e.dnStats) {
    const { mean, std } = e.dnStats;
    lines.push(
      `Σ grid = ${formatScore(sum)} = distance ÷ σ = ${formatScore(e.distance)} ÷ ${formatScore(std)}${residual}`,
    );
    lines.push(
      `score = Σ grid − μ/σ = ${formatScore(sum)} − ${formatScore(mean)}/${formatScore(std)} = ${formatScore(e.score)}`,
    );
  } else {
    lines.push(`Σ grid = ${formatScore(sum)} = distance${residual}`);
    lines.push(`score = distance = ${formatScore(e.score)} (no domain normalisation)`);
  }
  return lines;
}

/** A neighbour as the list shows it: a training clip by name, a MemMixup row as the mix it is. */
export function neighbourLabel(n: ExplainNeighbour): string {
  if (n.mix) return `mix of ${n.mix.target} and ${n.mix.source}, λ = ${n.mix.lambda}`;
  return n.name;
}

/** A frequency's height on the spectrogram (0 = bottom, 1 = top): the mel-spaced rows frequencyTicks labels. */
export function hzToFraction(hz: number, bins: number, lowHz = FBANK_LOW_HZ, highHz = FBANK_HIGH_HZ): number {
  if (!(bins > 0)) return 0;
  const mel = (f: number): number => 1127 * Math.log(1 + Math.max(0, f) / 700);
  const delta = (mel(highHz) - mel(lowHz)) / (bins + 1);
  const fraction = ((mel(hz) - mel(lowHz)) / delta - 0.5) / bins;
  return Math.min(1, Math.max(0, fraction));
}

/** One heat-map cell over the spectrogram: x from the left, y from the bottom, as fractions. */
export interface OverlayCell {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  value: number;
}

/**
 * The grid's cells placed over a spectrogram of `durationSec` and `bins` mel rows: time from the cells' bounds
 * (timeCellBounds, the same as the report's heat map), bands by their Hz range on the mel rows.
 */
export function overlayCells(e: ExplainResult, durationSec: number, bins: number): OverlayCell[] {
  const { grid } = e;
  const bounds = timeCellBounds(grid.timeSeconds);
  const span = durationSec > 0 ? durationSec : (bounds[bounds.length - 1]?.[1] ?? 1);
  const cells: OverlayCell[] = [];
  for (let t = 0; t < grid.times; t++) {
    // t < times = timeSeconds.length (the contract), so bounds[t] exists.
    const [t0, t1] = bounds[t]!;
    for (let b = 0; b < grid.bands; b++) {
      const hz = grid.bandHz[b] ?? [0, 0];
      cells.push({
        x0: Math.min(1, t0 / span),
        x1: Math.min(1, t1 / span),
        y0: hzToFraction(hz[0], bins),
        y1: hzToFraction(hz[1], bins),
        // t < times and b < bands: inside the row-major times × bands grid.
        value: grid.values[t * grid.bands + b]!,
      });
    }
  }
  return cells;
}

/** The largest |contribution|: the diverging scale's half-width (1 when all are 0, so nothing divides by 0). */
export function maxAbs(values: readonly number[]): number {
  const m = values.reduce((a, v) => (Number.isFinite(v) ? Math.max(a, Math.abs(v)) : a), 0);
  return m > 0 ? m : 1;
}

/**
 * A contribution as a see-through colour over the spectrogram: red towards anomalous, blue towards normal, opacity
 * growing with |value| (0 is fully transparent, so the spectrogram shows through where nothing contributes).
 */
export function divergingRgba(value: number, half: number, maxAlpha = 0.7): [number, number, number, number] {
  const t = Number.isFinite(value) && half > 0 ? Math.max(-1, Math.min(1, value / half)) : 0;
  const alpha = Math.round(255 * maxAlpha * Math.abs(t));
  return t >= 0 ? [214, 39, 40, alpha] : [31, 119, 180, alpha];
}

/**
 * The per-time curve as SVG polyline points in a 0..100 × 0..100 box drawn at the spectrogram's width (x = time over
 * the clip's duration, y = 0 at the top for the largest value), with where 0 lies.
 */
export function perTimePoints(e: ExplainResult, durationSec: number): { points: string; zeroY: number } {
  const times = e.grid.timeSeconds;
  const span = durationSec > 0 ? durationSec : (timeCellBounds(times).at(-1)?.[1] ?? 1);
  const lo = Math.min(0, ...e.perTime);
  const hi = Math.max(0, ...e.perTime);
  const range = hi > lo ? hi - lo : 1;
  const y = (v: number): number => (100 * (hi - v)) / range;
  const points = e.perTime.map((v, i) => `${((100 * (times[i] ?? 0)) / span).toFixed(2)},${y(v).toFixed(2)}`).join(' ');
  return { points, zeroY: Number(y(0).toFixed(2)) };
}
