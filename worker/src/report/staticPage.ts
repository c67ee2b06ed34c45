/**
 * The head of every static page the worker writes (report.html, compare.html): a strict CSP — no script, no remote
 * content, inline styles and data: images only — and the shared table styles, declared once so the pages cannot
 * drift apart. `title` is inserted as given (escape it first); `css` adds the page's own rules.
 */
const BASE_CSS = `body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.summary td { font-weight: bold; border-top: 2px solid #888; }`;

export function staticPageHead(title: string, css: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>
${BASE_CSS}
${css}
</style></head>`;
}
