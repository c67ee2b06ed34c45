import { loader, parse, View } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { VegaLiteSpec } from '../../worker/src/protocol/chartSpecs';
import { vegaLiteConfig, type ChartTheme } from './theme';

/**
 * Renders the shared chart specs (worker/src/protocol/chartSpecs.ts) into the panel as SVG. Two things keep it inside
 * the panel's Content-Security-Policy: vega's expressions run through vega-interpreter (no Function constructor,
 * so no 'unsafe-eval'), and its loader refuses every URL (specs carry their data inline; nothing is fetched).
 */
const noNetwork = loader();
noNetwork.sanitize = (uri: string): Promise<never> =>
  Promise.reject(new Error(`the results panel loads nothing from outside; refused ${uri}`));

export async function renderChart(container: HTMLElement, spec: VegaLiteSpec, theme: ChartTheme): Promise<View> {
  const themed = {
    ...spec,
    config: { ...vegaLiteConfig(theme), ...((spec['config'] as object | undefined) ?? {}) },
  } as unknown as TopLevelSpec;
  const runtime = parse(compile(themed).spec, undefined, { ast: true });
  const view = new View(runtime, {
    expr: expressionInterpreter,
    loader: noNetwork,
    renderer: 'svg',
    container,
    hover: true,
  });
  await view.runAsync();
  return view;
}
