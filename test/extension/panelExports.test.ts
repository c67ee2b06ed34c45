import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chartBytes, chartFileName, exportFolderOf, writeFileAtomic } from '../../extension/src/panelExports';
import type { RunResults } from '../../worker/src/protocol/results';

const dir = mkdtempSync(path.join(tmpdir(), 'genrep-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chart exports on the host', () => {
  it('suggests file names without path separators or leading dots', () => {
    expect(chartFileName('histogram-fan', 'svg')).toBe('histogram-fan.svg');
    expect(chartFileName('../x/y', 'png')).toBe('x_y.png');
    expect(chartFileName('...', 'png')).toBe('chart.png');
    expect(chartFileName('a'.repeat(300), 'svg')).toHaveLength(104);
  });

  it('takes SVG markup (with or without an XML declaration) and base64 PNG with its signature', () => {
    expect('bytes' in chartBytes('svg', '<?xml version="1.0"?>\n<svg width="1"></svg>')).toBe(true);
    expect(chartBytes('svg', '<svgx/>')).toEqual({ error: 'the SVG does not start with an <svg> element' });
    expect(chartBytes('png', 'not base64!')).toEqual({ error: 'the PNG is not valid base64' });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1]);
    const ok = chartBytes('png', png.toString('base64'));
    expect('bytes' in ok && [...ok.bytes]).toEqual([...png]);
  });

  it('starts the save dialog in the run folder, or beside the bank for scored files', () => {
    expect(exportFolderOf({ kind: 'results', file: '/ws/out/results.json', results: {} as RunResults })).toBe(
      '/ws/out',
    );
    expect(
      exportFolderOf({
        kind: 'scored',
        title: 't',
        scored: { bankFile: '/b/fan.grbank', bank: {} as never, threshold: 0, files: [] },
      }),
    ).toBe('/b');
    expect(exportFolderOf(undefined)).toBeUndefined();
  });

  it('replaces a file whole and leaves no temporary file behind', async () => {
    const target = path.join(dir, 'chart.svg');
    writeFileSync(target, 'old');
    await writeFileAtomic(target, new TextEncoder().encode('<svg></svg>'));
    expect(readFileSync(target, 'utf8')).toBe('<svg></svg>');
    expect(readdirSync(dir)).toEqual(['chart.svg']);
    await expect(writeFileAtomic(path.join(dir, 'missing', 'a.svg'), new Uint8Array(1))).rejects.toThrow(
      /missing\/a\.svg: cannot write it \(ENOENT\)/,
    );
    expect(readdirSync(dir)).toEqual(['chart.svg']);
  });
});
