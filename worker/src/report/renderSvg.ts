import type { VegaLiteSpec } from '../protocol/chartSpecs';

/**
 * Renders a Vega-Lite spec to an SVG string without a browser (vega's 'none' renderer). vega and vega-lite are ES
 * modules; TypeScript's node16 mode keeps this dynamic import() as a real import in the CommonJS build.
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
