import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ChartFormat, PanelContent } from '../../worker/src/protocol/webviewProtocol';

/**
 * The host's half of the panel's exports (copy a table, save a chart), without `vscode`: what a webview may hand
 * over is checked here (size, format, PNG signature), file names are made safe, and the file is written atomically.
 * The dialogs and the clipboard are in panelExportHost.ts.
 */

/** A rendered chart is a few hundred kB at most; anything far larger is not one. */
export const MAX_CHART_BYTES = 32 * 2 ** 20;
/** A metric table as Markdown or CSV is a few kB; the cap only bounds what a misbehaving page can push. */
export const MAX_COPY_CHARS = 8 * 2 ** 20;

export const CHART_FORMATS: readonly ChartFormat[] = ['svg', 'png'];

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** `histogram-fan` → `histogram-fan.svg`: letters, digits, `-`, `_` and `.` only, so no path can be smuggled in. */
export function chartFileName(name: string, format: ChartFormat): string {
  const safe = name
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 100);
  return `${safe || 'chart'}.${format}`;
}

/** The bytes to write for a chart the panel sent, or why they are refused. */
export function chartBytes(format: ChartFormat, data: string): { bytes: Uint8Array } | { error: string } {
  if (data.length > (format === 'png' ? (MAX_CHART_BYTES * 4) / 3 : MAX_CHART_BYTES))
    return { error: `the chart is larger than ${MAX_CHART_BYTES / 2 ** 20} MiB` };
  if (format === 'svg') {
    if (!/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(data)) return { error: 'the SVG does not start with an <svg> element' };
    return { bytes: new TextEncoder().encode(data) };
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) return { error: 'the PNG is not valid base64' };
  const bytes = Uint8Array.from(Buffer.from(data, 'base64'));
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return { error: 'the PNG does not start with the PNG signature' };
  return { bytes };
}

/** Where a save dialog starts: the run's output folder for a run, the bank's folder for scored files. */
export function exportFolderOf(content: PanelContent | undefined): string | undefined {
  if (!content) return undefined;
  if (content.kind === 'compare')
    return content.compare.runs[0] ? path.dirname(content.compare.runs[0].file) : undefined;
  return path.dirname(content.kind === 'results' ? content.file : content.scored.bankFile);
}

/**
 * Writes through a temporary sibling and renames it into place (the worker's writeFileAtomic, which the extension
 * may not import): a reader sees the old file or the whole new one. The temp name is the worker's pattern
 * (`.<name>.<pid>.<12 hex>.tmp`), so its stale-temp cleanup recognises a leftover.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    const reason = err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : String(err);
    throw new Error(`${target}: cannot write it (${reason})`, { cause: err });
  }
}
