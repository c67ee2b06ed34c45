import { describe, expect, it } from 'vitest';
import type { MachineResult } from '../../worker/src/protocol/results';
import { histogramSpec, rocSpec } from '../../worker/src/protocol/chartSpecs';
import { nextSort, sortRows } from '../../webview-ui/src/sorting';
import { colourAt, decodeFloat32, spectrogramPixels } from '../../webview-ui/src/spectrogram';
import { themeFromVariables, vegaLiteConfig } from '../../webview-ui/src/theme';

describe('table sorting', () => {
  const rows = [
    { name: 'b', score: 2 },
    { name: 'a', score: null },
    { name: 'c', score: 2 },
    { name: 'd', score: 5 },
    { name: 'e', score: Number.NaN },
  ];
  const cell = (r: (typeof rows)[number], c: 'name' | 'score') => r[c];

  it('sorts numbers both ways, keeps ties in dataset order and missing values last', () => {
    expect(sortRows(rows, { column: 'score', direction: 'desc' }, cell).map((r) => r.name)).toEqual([
      'd',
      'b',
      'c',
      'a',
      'e',
    ]);
    expect(sortRows(rows, { column: 'score', direction: 'asc' }, cell).map((r) => r.name)).toEqual([
      'b',
      'c',
      'd',
      'a',
      'e',
    ]);
  });

  it('sorts names naturally (clip_2 before clip_10)', () => {
    const names = [{ n: 'clip_10' }, { n: 'clip_2' }, { n: 'clip_1' }];
    expect(sortRows(names, { column: 'n', direction: 'asc' }, (r) => r.n).map((r) => r.n)).toEqual([
      'clip_1',
      'clip_2',
      'clip_10',
    ]);
  });

  it('flips the direction on the same column', () => {
    expect(nextSort(undefined, 'score', true)).toEqual({ column: 'score', direction: 'desc' });
    expect(nextSort({ column: 'score', direction: 'desc' }, 'score', true)).toEqual({
      column: 'score',
      direction: 'asc',
    });
    expect(nextSort({ column: 'score', direction: 'asc' }, 'name', false)).toEqual({
      column: 'name',
      direction: 'asc',
    });
  });
});

describe('the theme', () => {
  it('takes the chart colours and fonts from the editor CSS variables, with fallbacks', () => {
    const vars: Record<string, string> = {
      '--vscode-editor-foreground': ' #cccccc',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-font-size': '14px',
      '--vscode-font-family': 'Segoe UI',
    };
    const theme = themeFromVariables((n) => vars[n] ?? '');
    expect(theme).toMatchObject({ foreground: '#cccccc', font: 'Segoe UI', fontSize: 14 });
    expect(theme.palette[0]).toBe('#3794ff');
    expect(theme.palette[1]).toBe('#e51400'); // --vscode-charts-red absent → fallback
    const config = vegaLiteConfig(theme) as {
      range: { category: string[] };
      axis: { labelColor: string };
      background: unknown;
    };
    expect(config.range.category).toEqual(theme.palette);
    expect(config.axis.labelColor).toBe('#cccccc');
    expect(config.background).toBeNull(); // the panel's own background shows through
  });
});

describe('the spectrogram', () => {
  it('decodes the worker float32 base64', () => {
    const values = Float32Array.from([0, -1.5, 3.25, 1e-7]);
    expect([...decodeFloat32(Buffer.from(values.buffer).toString('base64'))]).toEqual([...values]);
  });

  it('maps quiet to dark blue and loud to yellow, clamping outside the range', () => {
    expect(colourAt(0)).toEqual([68, 1, 84]);
    expect(colourAt(1)).toEqual([253, 231, 37]);
    expect(colourAt(-5)).toEqual(colourAt(0));
    expect(colourAt(Number.NaN)).toEqual(colourAt(0));
    const mid = colourAt(0.5);
    expect(mid[1]).toBeGreaterThan(colourAt(0.25)[1]);
  });

  it('puts low mel bins at the bottom row and time left to right', () => {
    // 2 frames × 3 bins; only frame 1, bin 0 is loud.
    const data = Float32Array.from([0, 0, 0, 1, 0, 0]);
    const px = spectrogramPixels(data, 2, 3, 0, 1);
    const at = (x: number, y: number) => [...px.slice((y * 2 + x) * 4, (y * 2 + x) * 4 + 3)];
    expect(at(1, 2)).toEqual([253, 231, 37]); // bottom row, right column
    expect(at(0, 2)).toEqual([68, 1, 84]);
    expect(at(1, 0)).toEqual([68, 1, 84]);
  });
});

describe('the shared chart specs with the panel theme', () => {
  const machine = {
    machineType: 'fan',
    chosenLayer: 3,
    threshold: 0.5,
    files: [
      { score: 0.2, label: 'normal' },
      { score: 0.9, label: 'anomaly' },
    ],
    roc: { all: { fpr: [0, 0, 1], tpr: [0, 1, 1] }, source: null, target: null },
  } as unknown as MachineResult;

  it('render through vega-interpreter (the CSP-safe expression evaluator the panel uses)', async () => {
    const [vega, vl, { expressionInterpreter }] = await Promise.all([
      import('vega'),
      import('vega-lite'),
      import('vega-interpreter'),
    ]);
    const theme = themeFromVariables(() => '');
    for (const spec of [rocSpec(machine)!, histogramSpec(machine)]) {
      const themed = { ...spec, config: vegaLiteConfig(theme) };
      const runtime = vega.parse(vl.compile(themed as never).spec, undefined, { ast: true });
      const view = new vega.View(runtime, { expr: expressionInterpreter, renderer: 'none' });
      const svg = await view.toSVG();
      view.finalize();
      expect(svg).toMatch(/^<svg/);
      expect(svg).toContain('#1a85ff'); // the theme's first category colour reached the marks
    }
  });
});
