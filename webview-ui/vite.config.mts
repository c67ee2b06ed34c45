import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The results panel's bundle: one classic script (dist/webview/main.js, loaded by nonce) and one stylesheet
 * (dist/webview/main.css), with fixed names because the extension host writes them into the panel's HTML.
 * Everything is bundled — vega, vega-lite, the chart specs shared with report.html — so the panel fetches nothing.
 */
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  publicDir: false,
  logLevel: 'warn',
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: here('../dist/webview'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4096,
    lib: {
      entry: here('src/main.ts'),
      formats: ['iife'],
      name: 'genrepPanel',
      fileName: () => 'main.js',
      cssFileName: 'main',
    },
  },
});
