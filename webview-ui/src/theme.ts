/**
 * Chart styling from the editor's theme: VS Code puts its colours on the webview's <html> as CSS variables
 * (--vscode-editor-foreground, --vscode-charts-blue …); this turns them into a Vega-Lite config, so the same specs
 * that report.html renders in its own light style follow the editor here. Pure, given a variable reader.
 */
export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  font: string;
  fontSize: number;
  /** Category colours in order: all/normal, source/anomaly, target, … */
  palette: string[];
}

export function themeFromVariables(read: (name: string) => string): ChartTheme {
  const v = (name: string, fallback: string): string => read(name).trim() || fallback;
  const fontSize = Number.parseFloat(v('--vscode-font-size', '13'));
  return {
    foreground: v('--vscode-editor-foreground', '#333333'),
    muted: v('--vscode-descriptionForeground', '#717171'),
    grid: v('--vscode-editorWidget-border', v('--vscode-panel-border', '#c8c8c8')),
    font: v('--vscode-font-family', 'sans-serif'),
    fontSize: Number.isFinite(fontSize) ? fontSize : 13,
    palette: [
      v('--vscode-charts-blue', '#1a85ff'),
      v('--vscode-charts-red', '#e51400'),
      v('--vscode-charts-green', '#388a34'),
      v('--vscode-charts-orange', '#d18616'),
      v('--vscode-charts-purple', '#652d90'),
      v('--vscode-charts-yellow', '#bf8803'),
    ],
  };
}

export function vegaLiteConfig(t: ChartTheme): Record<string, unknown> {
  const text = {
    labelColor: t.foreground,
    titleColor: t.foreground,
    labelFont: t.font,
    titleFont: t.font,
    labelFontSize: t.fontSize - 2,
    titleFontSize: t.fontSize - 1,
  };
  return {
    background: null,
    font: t.font,
    title: { color: t.foreground, font: t.font, fontSize: t.fontSize, fontWeight: 600 },
    axis: { ...text, domainColor: t.muted, tickColor: t.muted, gridColor: t.grid, gridOpacity: 0.6 },
    legend: { ...text },
    view: { stroke: t.grid },
    range: { category: t.palette },
    rule: { color: t.foreground },
    line: { strokeWidth: 2 },
  };
}
