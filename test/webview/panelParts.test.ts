import { describe, expect, it } from 'vitest';
import type { VariantResult } from '../../worker/src/protocol/results';
import { gridKey, GRID_PAGE_ROWS } from '../../webview-ui/src/gridKeys';
import { colourBarTicks, frequencyTicks, timeTicks, toDecibels } from '../../webview-ui/src/spectrogram';
import { initialState, reduce } from '../../webview-ui/src/state';
import { metricTableData, toCsv, toMarkdown, type TableData } from '../../webview-ui/src/tableExport';
import { readableTimestamp } from '../../webview-ui/src/timestamp';

const variant = {
  id: 'dn=transductive',
  summaryStyle: 'dcase2023',
  machines: [
    {
      machineType: 'fan',
      chosenLayer: 4,
      threshold: 1.23456,
      metrics: { auc: 0.73789, pauc: 0.6, auc_source: 0.8, auc_target: 0.7, official: null },
    },
  ],
  overall: { auc: 0.73789, pauc: 0.6, auc_source: 0.8, auc_target: 0.7, official: 0.6512 },
} as unknown as VariantResult;

describe('metric tables as Markdown and CSV', () => {
  it('shows AUC, pAUC and the official score in percent with two decimals, the threshold as a score', () => {
    expect(metricTableData(variant).rows).toEqual([
      ['fan', '4', '73.79', '60.00', '80.00', '70.00', '—', '1.2346'],
      ['harmonic mean', '', '73.79', '60.00', '80.00', '70.00', '65.12', ''],
    ]);
  });

  it('writes GitHub Markdown with numeric columns right-aligned and pipes escaped', () => {
    const table: TableData = {
      columns: [
        { title: 'clip', numeric: false },
        { title: 'AUC (%)', numeric: true },
      ],
      rows: [
        ['a|b', '73.79'],
        ['two\nlines', '1.00'],
      ],
    };
    expect(toMarkdown(table)).toBe('| clip | AUC (%) |\n| --- | ---: |\n| a\\|b | 73.79 |\n| two lines | 1.00 |\n');
  });

  it('writes RFC 4180 CSV: quotes only where needed, doubled inside, CRLF line ends', () => {
    const table: TableData = {
      columns: [
        { title: 'machine type', numeric: false },
        { title: 'AUC (%)', numeric: true },
      ],
      rows: [
        ['fan, section 00', '73.79'],
        ['say "hi"', ''],
      ],
    };
    expect(toCsv(table)).toBe('machine type,AUC (%)\r\n"fan, section 00",73.79\r\n"say ""hi""",\r\n');
    expect(toCsv(metricTableData(variant)).split('\r\n')[0]).toBe(
      'machine type,layer,AUC (%),pAUC (%),source AUC (%),target AUC (%),official (%),threshold',
    );
  });
});

describe('the per-file grid keyboard', () => {
  it('moves by one, by a page and to the ends, clamped to the rows', () => {
    expect(gridKey('ArrowDown', 0, 5)).toEqual({ kind: 'focus', index: 1 });
    expect(gridKey('ArrowDown', 4, 5)).toEqual({ kind: 'focus', index: 4 });
    expect(gridKey('ArrowUp', 0, 5)).toEqual({ kind: 'focus', index: 0 });
    expect(gridKey('Home', 3, 5)).toEqual({ kind: 'focus', index: 0 });
    expect(gridKey('End', 0, 5)).toEqual({ kind: 'focus', index: 4 });
    expect(gridKey('PageDown', 2, 100)).toEqual({ kind: 'focus', index: 2 + GRID_PAGE_ROWS });
    expect(gridKey('PageDown', 2, 5)).toEqual({ kind: 'focus', index: 4 });
    expect(gridKey('PageUp', 15, 100)).toEqual({ kind: 'focus', index: 15 - GRID_PAGE_ROWS });
    expect(gridKey('PageUp', 3, 100)).toEqual({ kind: 'focus', index: 0 });
  });

  it('opens the focused clip on Enter or Space and ignores other keys and empty tables', () => {
    expect(gridKey('Enter', 2, 5)).toEqual({ kind: 'open', index: 2 });
    expect(gridKey(' ', 2, 5)).toEqual({ kind: 'open', index: 2 });
    expect(gridKey('Tab', 2, 5)).toBeUndefined();
    expect(gridKey('a', 2, 5)).toBeUndefined();
    expect(gridKey('ArrowDown', 0, 0)).toBeUndefined();
  });
});

describe('the header timestamp', () => {
  it('reads as a locale date and time, and leaves a non-date alone', () => {
    const text = readableTimestamp('2026-12-03T21:55:45.123Z', 'en-GB');
    expect(text).toMatch(/2026/);
    expect(text).not.toContain('T21');
    expect(text).not.toContain('Z');
    expect(readableTimestamp('yesterday')).toBe('yesterday');
  });
});

describe('the spectrogram axes', () => {
  it('ticks time at a round step from 0 to the duration', () => {
    expect(timeTicks(10).map((t) => t.label)).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(timeTicks(10).at(-1)!.fraction).toBeCloseTo(1, 12);
    expect(timeTicks(0.35).map((t) => t.label)).toEqual(['0.0', '0.1', '0.2', '0.3']);
    expect(timeTicks(0)).toEqual([]);
  });

  it('places Hz on the Kaldi mel rows: 1 kHz about a third of the way up, 8 kHz at the top', () => {
    const ticks = frequencyTicks(128);
    expect(ticks.map((t) => t.label)).toEqual(['100', '250', '500', '1k', '2k', '4k', '8k']);
    const at = (label: string): number => ticks.find((t) => t.label === label)!.fraction;
    // mel(1000 Hz) = 1000.0; rows are (mel − mel(20)) / Δ − 1 with Δ = (mel(8000) − mel(20)) / 129, centred.
    expect(at('1k')).toBeCloseTo(((1000.0 - 31.748) / ((2840.023 - 31.748) / 129) - 0.5) / 128, 3);
    expect(at('8k')).toBe(1);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.fraction).toBeGreaterThan(ticks[i - 1]!.fraction);
  });

  it('labels the colour bar in dB (10·log10 of the power whose natural log the fbank holds)', () => {
    expect(toDecibels(Math.LN10)).toBeCloseTo(10, 12);
    expect(colourBarTicks(0, 2 * Math.LN10).map((t) => t.label)).toEqual(['0 dB', '10 dB', '20 dB']);
    expect(colourBarTicks(1, 1)).toHaveLength(1);
    expect(colourBarTicks(Number.NaN, 1)).toEqual([]);
  });
});

describe('closing the clip pane', () => {
  it('drops the clip, and a late answer for it changes nothing', () => {
    const opened = reduce(initialState, { type: 'ui/selectClip', file: '/a.wav' });
    const closed = reduce(opened, { type: 'ui/closeClip' });
    expect(closed.clip).toBeUndefined();
    const late = reduce(closed, { type: 'reply', requestId: 1, method: 'spectrogram', ok: false, error: 'x' });
    expect(late.clip).toBeUndefined();
    expect(reduce(closed, { type: 'ui/closeClip' })).toBe(closed);
  });
});
