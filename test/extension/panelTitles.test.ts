import { describe, expect, it } from 'vitest';
import {
  bankMachineType,
  clipPanelTitle,
  runPanelTitle,
  scoresPanelTitle,
  shortTime,
  uniqueTitle,
} from '../../extension/src/panelTitles';

// Dates built from local-time parts, so the expectations hold in any time zone.
const now = new Date(2026, 11, 3, 18, 30);

describe('results panel titles', () => {
  it('names a run by its name and the time it finished, with the date when not today', () => {
    expect(runPanelTitle('demo', new Date(2026, 11, 3, 14, 2).toISOString(), now)).toBe('demo · 14:02');
    expect(runPanelTitle('demo', new Date(2026, 11, 1, 9, 5).toISOString(), now)).toBe('demo · 2026-12-01 09:05');
    expect(runPanelTitle('odd', 'not a time', now)).toBe('odd · not a time');
  });

  it('names a scoring by the bank machine type and the time', () => {
    expect(scoresPanelTitle('pump', new Date(2026, 11, 3, 8, 7), now)).toBe('Scores · pump · 08:07');
    expect(shortTime(new Date(2025, 0, 31, 23, 59), now)).toBe('2025-01-31 23:59');
  });

  it('takes the machine type from the bank header, else from the name Build Memory Bank gives the file', () => {
    expect(bankMachineType('/b/x.grbank', { machineType: 'valve' })).toBe('valve');
    expect(bankMachineType('/b/fan-fbank-stats-L1.grbank', { machineType: '' })).toBe('fan');
    expect(bankMachineType('C:\\b\\ToyCar-beats-ft1-L4.grbank', {})).toBe('ToyCar');
    expect(bankMachineType('/b/mybank.grbank', {})).toBe('mybank');
  });

  it('names a loose clip panel by the file, and keeps titles of two scorings in one minute apart', () => {
    expect(clipPanelTitle('/data/fan/test/a.wav')).toBe('Clip · a.wav');
    const t = 'Scores · fan · 14:02';
    expect(uniqueTitle(t, new Set())).toBe(t);
    expect(uniqueTitle(t, new Set([t]))).toBe(`${t} (2)`);
    expect(uniqueTitle(t, new Set([t, `${t} (2)`]))).toBe(`${t} (3)`);
  });
});
