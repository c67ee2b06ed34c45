import { describe, expect, it } from 'vitest';
import { compareAction, compareSelection, isResultsJson } from '../../extension/src/compareSelection';
import { exportFolderOf } from '../../extension/src/panelExports';
import { allowedFilesOf } from '../../extension/src/panelMessages';
import { comparePanelTitle } from '../../extension/src/panelTitles';
import type { CompareResult } from '../../worker/src/protocol/compare';

describe('Compare Results from the explorer', () => {
  it('compares the selected results.json files in selection order, each once, and names the rest', () => {
    const s = compareSelection('/w/b/results.json', [
      '/w/b/results.json',
      '/w/a/results.json',
      '/w/a/report.html',
      '/w/b/results.json',
    ]);
    expect(s).toEqual({ files: ['/w/b/results.json', '/w/a/results.json'], others: ['/w/a/report.html'] });
    expect(compareAction(s)).toBe('compare');
  });

  it('asks for more with fewer than two results.json (one clicked, or from the palette)', () => {
    expect(compareSelection('/w/a/results.json', [])).toEqual({ files: ['/w/a/results.json'], others: [] });
    expect(compareAction(compareSelection('/w/a/results.json', []))).toBe('askForMore');
    expect(compareAction(compareSelection(undefined, []))).toBe('askForMore');
  });

  it('knows a results.json by its name only', () => {
    expect(isResultsJson('C:\\runs\\x\\results.json')).toBe(true);
    expect(isResultsJson('results.json')).toBe(true);
    expect(isResultsJson('/w/old-results.json')).toBe(false);
  });
});

describe('the comparison panel', () => {
  const compare = {
    runs: [
      { file: '/w/a/results.json', name: 'base', label: 'base', finishedAt: '', embedders: ['fbank-stats'] },
      { file: '/w/b/results.json', name: 'no-dn', label: 'no-dn', finishedAt: '', embedders: ['fbank-stats'] },
    ],
    pairs: [
      {
        a: 0,
        b: 1,
        variants: [{ machines: [{ files: [{ path: '/d/fan/test/x.wav' }] }] }],
        variantsOnlyA: [],
        variantsOnlyB: [],
        configDiff: [],
      },
    ],
  } as unknown as CompareResult;

  it('is titled Compare · A ↔ B (more runs after a comma)', () => {
    expect(comparePanelTitle(['base', 'no-dn'])).toBe('Compare · base ↔ no-dn');
    expect(comparePanelTitle(['base', 'no-dn', 'ks5'])).toBe('Compare · base ↔ no-dn, ks5');
  });

  it('may name the compared results.json and their clips, nothing else, and saves beside run A', () => {
    const allowed = allowedFilesOf({ kind: 'compare', compare });
    expect([...allowed].sort()).toEqual(['/d/fan/test/x.wav', '/w/a/results.json', '/w/b/results.json']);
    expect(exportFolderOf({ kind: 'compare', compare })).toBe('/w/a');
  });
});
