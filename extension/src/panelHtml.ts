import { randomBytes } from 'node:crypto';

/**
 * The results panel's HTML shell. The Content-Security-Policy allows nothing by default; then:
 * - scripts: only the bundle carrying this page's nonce (dist/webview/main.js; vega runs with its CSP-safe
 *   expression interpreter, so no 'unsafe-eval');
 * - styles: only the extension's own stylesheet (the chart renderer sets styles through the CSSOM, which CSP allows);
 * - images and fonts: only from the extension (webview.cspSource), plus data: images for exported charts;
 * - media: blob: only — a clip is played from bytes the host sent (a 16-bit WAV the worker re-encoded), turned into
 *   a blob: URL inside the page, so the webview needs no access to the dataset folder at all;
 * - no connect-src, frame-src or remote origin of any kind: the panel loads nothing from a network.
 * localResourceRoots (resultsPanel.ts) is dist/webview alone, for the same reason.
 */
export interface PanelHtmlOptions {
  /** webview.cspSource: the origin the webview serves extension files from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function contentSecurityPolicy(o: Pick<PanelHtmlOptions, 'cspSource' | 'nonce'>): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}'`,
    `style-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
    'media-src blob:',
  ].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(contentSecurityPolicy(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeAttribute(o.styleUri)}">
<title>GenRep Results</title>
</head>
<body>
<main id="app" data-testid="genrep-panel"><p class="placeholder">Loading…</p></main>
<script nonce="${escapeAttribute(o.nonce)}" src="${escapeAttribute(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** 128 random bits from the OS generator (never Math.random), base64 as CSP's nonce-source grammar allows. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
