import { describe, expect, it } from 'vitest';
import {
  histogramSpec,
  STRIP_PLOT_BELOW,
  type ScoreChartInput,
  type VegaLiteSpec,
} from '../../worker/src/protocol/chartSpecs';
import { renderSvg } from '../../worker/src/report/renderSvg';

/** n clips with distinct scores 0.1, 0.2, …; odd ones anomalous. */
function clips(n: number): ScoreChartInput {
  return {
    machineType: 'fan',
    threshold: 0.35,
    files: Array.from({ length: n }, (_, i) => ({
      score: 0.1 * (i + 1),
      label: i % 2 ? 'anomaly' : 'normal',
      name: `clip_${i}.wav`,
    })),
  };
}

type Layer = { mark: { type: string }; encoding?: Record<string, Record<string, unknown>>; data?: unknown };
const layers = (spec: VegaLiteSpec): Layer[] => spec['layer'] as Layer[];
const marks = (spec: VegaLiteSpec): string[] => layers(spec).map((l) => l.mark.type);

/** The tick labels of the axis whose aria-label starts with `axis` ("Y-axis titled 'clips'") in a rendered SVG. */
function axisLabels(svg: string, axis: string): string[] {
  const start = svg.indexOf(`aria-label="${axis}`);
  if (start < 0) return [];
  const rest = svg.slice(start);
  const next = rest.indexOf('aria-label="', 1);
  const group = /<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/s.exec(next < 0 ? rest : rest.slice(0, next));
  return [...(group?.[1] ?? '').matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1]!);
}

describe('score charts at small n', () => {
  it(`draws a strip plot (one point per clip) below ${STRIP_PLOT_BELOW} clips and a histogram from there on`, () => {
    const strip = histogramSpec(clips(STRIP_PLOT_BELOW - 1));
    expect(strip['usermeta']).toEqual({ chart: 'strip' });
    expect(marks(strip)).toEqual(['point', 'rule']);
    expect((strip['data'] as { values: unknown[] }).values).toHaveLength(STRIP_PLOT_BELOW - 1);
    const histogram = histogramSpec(clips(STRIP_PLOT_BELOW));
    expect(histogram['usermeta']).toEqual({ chart: 'histogram' });
    expect(marks(histogram)).toEqual(['bar', 'rule']);
  });

  it('gives the histogram whole-number count ticks and a score axis that does not crowd its labels', () => {
    const bars = layers(histogramSpec(clips(12))).find((l) => l.mark.type === 'bar')!;
    expect(bars.encoding!['y']!['axis']).toEqual({ tickMinStep: 1, format: 'd' });
    expect(bars.encoding!['x']!['axis']).toMatchObject({ labelOverlap: true, tickCount: 5 });
  });

  it('renders whole-number count ticks only (vega would otherwise tick 0, 0.5, 1, …)', async () => {
    for (const n of [STRIP_PLOT_BELOW, 9, 12]) {
      const labels = axisLabels(await renderSvg(histogramSpec(clips(n))), "Y-axis titled 'clips'");
      expect(labels.length).toBeGreaterThanOrEqual(2);
      expect(labels.every((l) => /^\d+$/.test(l))).toBe(true);
      expect(labels[0]).toBe('0');
    }
  });

  it('renders one clip as a strip with no count axis at all', async () => {
    const svg = await renderSvg(histogramSpec(clips(1)));
    expect(svg).not.toContain('>clips<');
    expect(svg).toContain('anomaly score');
    expect(svg.match(/role-mark-point|mark-symbol/g)?.length ?? 0).toBeGreaterThan(0);
  });

  it('adds the bank training scores as context: a grey row in the strip plot, a 5–95 % band behind the histogram', () => {
    const training = Array.from({ length: 101 }, (_, i) => i / 100); // 0.00 … 1.00
    const context = { label: 'bank training clips (leave-one-out)', scores: [...training, Number.NaN] };
    const strip = histogramSpec(clips(3), context);
    expect(marks(strip)).toEqual(['tick', 'point', 'rule']);
    const row = layers(strip)[0]!;
    expect((row.data as { values: unknown[] }).values).toHaveLength(101); // the NaN is left out
    expect(layers(strip)[1]!.encoding!['y']!['sort']).toEqual([
      'normal',
      'anomaly',
      'bank training clips (leave-one-out)',
    ]);
    const histogram = histogramSpec(clips(10), context);
    expect(marks(histogram)).toEqual(['rect', 'bar', 'rule']);
    const band = (layers(histogram)[0]!.data as { values: { lo: number; hi: number }[] }).values[0]!;
    expect(band.lo).toBeCloseTo(0.05, 12);
    expect(band.hi).toBeCloseTo(0.95, 12);
    expect(marks(histogramSpec(clips(3), { label: 'x', scores: [] }))).toEqual(['point', 'rule']);
  });

  it('leaves the threshold rule out when the threshold is not finite', () => {
    expect(marks(histogramSpec({ ...clips(2), threshold: Number.POSITIVE_INFINITY }))).toEqual(['point']);
  });

  it('renders the strip plot with context to SVG (the report renders the same spec)', async () => {
    const svg = await renderSvg(histogramSpec(clips(2), { label: 'training', scores: [0.1, 0.2, 0.3] }));
    expect(svg).toMatch(/^<svg/);
    expect(axisLabels(svg, 'Y-axis')).toEqual(['normal', 'anomaly', 'training']);
  });
});
