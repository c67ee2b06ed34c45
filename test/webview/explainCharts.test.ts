import { describe, expect, it } from 'vitest';
import {
  explainSpec,
  heatmapSpec,
  perTimeSpec,
  timeCellBounds,
  topAnomalyHeatmaps,
  type VegaLiteSpec,
} from '../../worker/src/protocol/chartSpecs';
import { renderSvg } from '../../worker/src/report/renderSvg';
import { topAnomaliesHtml } from '../../worker/src/report/topAnomalies';
import { explainFixture } from './explainFixture';

type Enc = Record<string, Record<string, unknown>>;
const values = (spec: VegaLiteSpec): Record<string, unknown>[] =>
  (spec['data'] as { values: Record<string, unknown>[] }).values;

describe('explanation chart specs', () => {
  it('tiles the clip with time cells that meet at the midpoints between time steps', () => {
    expect(timeCellBounds([0.25, 0.75, 1.25])).toEqual([
      [0, 0.5],
      [0.5, 1],
      [1, 1.5],
    ]);
    expect(timeCellBounds([1])).toEqual([[0.5, 1.5]]);
    expect(timeCellBounds([])).toEqual([]);
  });

  it('draws one rect per grid cell with its time span, band label and contribution, summing to the distance', () => {
    const e = explainFixture();
    const spec = heatmapSpec(e);
    expect((spec['mark'] as { type: string }).type).toBe('rect');
    const cells = values(spec);
    expect(cells).toHaveLength(12);
    // Row-major: cell (t = 2, b = 1) is values[2 * 3 + 1] = 0.3, from 1.0 s to 1.5 s in the 500 Hz – 2 kHz band.
    expect(cells[7]).toEqual({ t0: 1, t1: 1.5, band: '500–2k Hz', bandIndex: 1, contribution: 0.3 });
    const sum = cells.reduce((s, c) => s + (c['contribution'] as number), 0);
    expect(sum).toBeCloseTo(e.distance, 12);
    expect(JSON.stringify(spec['title'])).toContain('= distance');
  });

  it('colours on a diverging scale centred at 0, symmetric about the largest |contribution|', () => {
    const enc = heatmapSpec(explainFixture())['encoding'] as Enc;
    expect(enc['color']!['scale']).toMatchObject({ domain: [-0.4, 0.4], domainMid: 0, scheme: 'redblue' });
    expect(enc['y']!['sort']).toEqual({ field: 'bandIndex', order: 'descending' });
    expect(enc['x']!['scale']).toMatchObject({ domain: [0, 2] });
  });

  it('titles the sum as distance / σ under domain normalisation', () => {
    const e = explainFixture(true);
    expect(JSON.stringify(heatmapSpec(e)['title'])).toContain('= distance / σ');
    expect(JSON.stringify(perTimeSpec(e)['title'])).toContain('distance / σ');
  });

  it('puts the per-time curve on the same time domain as the heat map, one point per time step', () => {
    const e = explainFixture();
    const spec = perTimeSpec(e);
    const line = (spec['layer'] as { mark: { type: string }; encoding: Enc }[]).find((l) => l.mark.type === 'line')!;
    const heatX = (heatmapSpec(e)['encoding'] as Enc)['x']!['scale'];
    expect(line.encoding['x']!['scale']).toEqual(heatX);
    expect(spec['width']).toBe(heatmapSpec(e)['width']);
    expect(values(spec)).toEqual([
      { time: 0.25, contribution: 0.1 },
      { time: 0.75, contribution: 0.3 },
      { time: 1.25, contribution: 0.6 },
      { time: 1.75, contribution: 0.2 },
    ]);
  });

  it('renders heat map and curve to static SVG (report.html), with the band labels and both time axes', async () => {
    const svg = await renderSvg(explainSpec(explainFixture()));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('500–2k Hz');
    expect(svg.match(/aria-label="X-axis titled 'time \(s\)'/g)).toHaveLength(2);
    // 12 cells drawn as rect paths in the heat map's mark group.
    const rects = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg)?.[1] ?? '';
    expect(rects.match(/<path /g)).toHaveLength(12);
  });

  it('picks the top anomalies by score, highest first', () => {
    const a = { ...explainFixture(), clip: '/a.wav', score: 0.5 };
    const b = { ...explainFixture(), clip: '/b.wav', score: 2 };
    const c = { ...explainFixture(), clip: '/c.wav', score: 1 };
    const top = topAnomalyHeatmaps([a, b, c, { ...a, clip: '/nan.wav', score: Number.NaN }], 2);
    expect(top.map((t) => t.clip)).toEqual(['/b.wav', '/c.wav']);
    expect(top[0]!.nearest).toBe('section_00_target_train_normal_0012.wav');
    expect(top[0]!.spec['vconcat']).toHaveLength(2);
  });
});

describe("report.html's top anomalies", () => {
  it('renders each picked clip as an SVG figure captioned with its score and nearest clip, names escaped', async () => {
    const odd = { ...explainFixture(), clip: '/x/<odd> & "q".wav', score: 3 };
    const html = await topAnomaliesHtml([explainFixture(), odd], 1);
    expect(html.match(/<figure><svg/g)).toHaveLength(1);
    expect(html).toContain('&lt;odd&gt; &amp; &quot;q&quot;.wav — score 3.000, distance 1.200');
    expect(html).toContain('nearest normal section_00_target_train_normal_0012.wav');
    expect(html).not.toContain('<odd>');
    expect(await topAnomaliesHtml([])).toBe('');
  });
});
