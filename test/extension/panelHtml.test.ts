import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../extension/src/panelHtml';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';
const opts = (nonce: string) => ({
  cspSource: CSP_SOURCE,
  nonce,
  scriptUri: `${CSP_SOURCE}/ext/dist/webview/main.js`,
  styleUri: `${CSP_SOURCE}/ext/dist/webview/main.css`,
});

/** The policy as the browser reads it: directive → source list. */
function parsePolicy(html: string): Map<string, string[]> {
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  if (!meta) throw new Error('no CSP meta tag');
  const policy = meta[1]!.replace(/&#39;|&quot;|&amp;/g, (e) => ({ '&#39;': "'", '&quot;': '"', '&amp;': '&' })[e]!);
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('the results panel HTML', () => {
  const nonce = makeNonce();
  const html = panelHtml(opts(nonce));
  const policy = parsePolicy(html);

  it('denies everything by default and allows scripts only by this page nonce', () => {
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('script-src')).toEqual([`'nonce-${nonce}'`]);
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(1);
    for (const attributes of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
  });

  it('has no remote, inline-eval or wildcard source anywhere', () => {
    for (const [directive, sources] of policy) {
      for (const source of sources) {
        expect(source, directive).not.toMatch(
          /^'unsafe-(inline|eval|hashes)'$|^\*$|^https?:$|^https?:\/\/(?!file\+\.vscode-resource)/,
        );
      }
    }
    expect(policy.has('connect-src')).toBe(false); // so default-src 'none' forbids every fetch
    expect(policy.has('frame-src')).toBe(false);
    // Every URL in the page is the extension's own resource.
    const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url.startsWith(`${CSP_SOURCE}/`)).toBe(true);
  });

  it('lets styles, images and fonts come from the extension only, and media from blob: (clip playback)', () => {
    expect(policy.get('style-src')).toEqual([CSP_SOURCE]);
    expect(policy.get('img-src')).toEqual([CSP_SOURCE, 'data:']);
    expect(policy.get('font-src')).toEqual([CSP_SOURCE]);
    expect(policy.get('media-src')).toEqual(['blob:']);
    expect(html).not.toMatch(/style="/); // no inline style attributes for the policy to refuse
  });

  it('uses a fresh 128-bit nonce for every page', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => makeNonce()));
    expect(nonces.size).toBe(50);
    for (const n of nonces) {
      expect(Buffer.from(n, 'base64')).toHaveLength(16);
      expect(n).toMatch(/^[A-Za-z0-9+/]+=*$/); // CSP's base64-value grammar
    }
    expect(parsePolicy(panelHtml(opts('abc'))).get('script-src')).toEqual(["'nonce-abc'"]);
  });

  it('escapes what it writes into attributes', () => {
    const evil = panelHtml({ ...opts('n'), scriptUri: '"><script>alert(1)</script>' });
    expect(evil).not.toContain('<script>alert(1)');
    expect(contentSecurityPolicy({ cspSource: CSP_SOURCE, nonce: 'n' })).toContain("script-src 'nonce-n'");
  });
});
