import { describe, expect, it } from 'vitest';
import { abEnded, abStart, abStatus, AB_IDLE, type AbTrack } from '../../webview-ui/src/abPlayer';
import {
  decompositionLines,
  divergingRgba,
  hzToFraction,
  maxAbs,
  neighbourLabel,
  overlayCells,
  perTimePoints,
} from '../../webview-ui/src/explainFormat';
import { initialState, newRequests, reduce, type Action, type PanelViewState } from '../../webview-ui/src/state';
import { frequencyTicks } from '../../webview-ui/src/spectrogram';
import type { RunResults } from '../../worker/src/protocol/results';
import type { PanelContent } from '../../worker/src/protocol/webviewProtocol';
import { oneBinSpectrogram } from '../helpers/spectrogram';
import { explainFixture } from './explainFixture';

const CLIP = explainFixture().clip;
const NEAREST = explainFixture().neighbours[0]!.path!;
const results = { variants: [{ id: 'dn=transductive' }, { id: 'dn=inductive' }] } as unknown as RunResults;
const content: PanelContent = { kind: 'results', file: '/r/results.json', results };

function run(...actions: Action[]): PanelViewState {
  return actions.reduce(reduce, initialState);
}

describe('the explain flow in the panel reducer', () => {
  it('selects the clip and asks for its explanation with the shown variant', () => {
    const shown = run({ type: 'show', content }, { type: 'ui/selectVariant', index: 1 });
    const s = reduce(shown, { type: 'ui/explainClip', file: CLIP, machineType: 'fan' });
    expect(s.clip).toMatchObject({ file: CLIP, machineType: 'fan', explain: {} });
    expect(newRequests(shown, s)).toEqual([
      { type: 'request', requestId: 1, method: 'spectrogram', params: { file: CLIP } },
      { type: 'request', requestId: 2, method: 'clipAudio', params: { file: CLIP } },
      { type: 'request', requestId: 3, method: 'explainClip', params: { file: CLIP, variant: 'dn=inductive' } },
    ]);
    // Already selected: only the explanation is asked for.
    const again = reduce({ ...s, clip: { ...s.clip!, explain: undefined } }, { type: 'ui/explainClip', file: CLIP });
    expect(newRequests(s, again).map((r) => r.method)).toEqual(['explainClip']);
  });

  it("stores the explanation, then asks for the nearest normal clip's spectrogram and audio", () => {
    const asked = run({ type: 'show', content }, { type: 'ui/explainClip', file: CLIP });
    const answered = reduce(asked, {
      type: 'reply',
      requestId: 3,
      method: 'explainClip',
      ok: true,
      result: explainFixture(),
    });
    expect(answered.clip?.explain?.result).toEqual(explainFixture());
    expect(answered.clip?.explain?.nearest).toEqual({
      file: NEAREST,
      name: 'section_00_target_train_normal_0012.wav',
      errors: [],
    });
    expect(newRequests(asked, answered)).toEqual([
      { type: 'request', requestId: 4, method: 'spectrogram', params: { file: NEAREST } },
      { type: 'request', requestId: 5, method: 'clipAudio', params: { file: NEAREST } },
    ]);
    const spec = oneBinSpectrogram(NEAREST);
    const withNearest = reduce(answered, {
      type: 'reply',
      requestId: 4,
      method: 'spectrogram',
      ok: true,
      result: spec,
    });
    expect(withNearest.clip?.explain?.nearest?.spectrogram).toBe(spec);
    // The clip's own spectrogram is untouched by the nearest clip's answer.
    expect(withNearest.clip?.spectrogram).toBeUndefined();
    const failed = reduce(withNearest, { type: 'reply', requestId: 5, method: 'clipAudio', ok: false, error: 'gone' });
    expect(failed.clip?.explain?.nearest?.errors).toEqual(['clipAudio: gone']);
  });

  it('shows a failed explanation as an error and drops answers for a clip no longer shown', () => {
    const asked = run({ type: 'show', content }, { type: 'ui/explainClip', file: CLIP });
    const failed = reduce(asked, { type: 'reply', requestId: 3, method: 'explainClip', ok: false, error: 'no cache' });
    expect(failed.clip?.explain).toEqual({ error: 'no cache' });
    const moved = reduce(asked, { type: 'ui/selectClip', file: '/other.wav' });
    const late = reduce(moved, {
      type: 'reply',
      requestId: 3,
      method: 'explainClip',
      ok: true,
      result: explainFixture(),
    });
    expect(late.clip).toEqual(moved.clip);
    expect(late.pending[3]).toBeUndefined();
  });
});

describe('A/B sequencing', () => {
  const both = new Set<AbTrack>(['clip', 'nearest']);
  it('plays the clip then the nearest normal clip, then stops', () => {
    const a = abStart('ab', both);
    expect(a).toEqual({ playing: 'clip', queue: ['nearest'] });
    expect(abStatus(a)).toBe('playing A: the clip, then B');
    const b = abEnded(a);
    expect(b).toEqual({ playing: 'nearest', queue: [] });
    expect(abStatus(b)).toBe('playing B: the nearest normal clip');
    expect(abEnded(b)).toEqual(AB_IDLE);
    expect(abStatus(AB_IDLE)).toBe('');
  });
  it('plays one track alone, and skips what is not available', () => {
    expect(abStart('nearest', both)).toEqual({ playing: 'nearest', queue: [] });
    expect(abStart('ab', new Set<AbTrack>(['nearest']))).toEqual({ playing: 'nearest', queue: [] });
    expect(abStart('clip', new Set<AbTrack>())).toEqual(AB_IDLE);
  });
});

describe('explain view formatting and geometry', () => {
  it('decomposes the score: Σ grid = distance without DN', () => {
    expect(decompositionLines(explainFixture())).toEqual([
      "distance = 1.2000: the mean distance to the 2 nearest rows of the 'target' bank",
      'Σ grid = 1.2000 = distance (exact)',
      'score = distance = 1.2000 (no domain normalisation)',
    ]);
  });
  it('decomposes the score under DN: Σ grid = distance ÷ σ, score = Σ grid − μ/σ', () => {
    expect(decompositionLines(explainFixture(true))).toEqual([
      "distance = 2.4000: the mean distance to the 2 nearest rows of the 'target' bank",
      'Σ grid = 1.2000 = distance ÷ σ = 2.4000 ÷ 2.0000 (exact)',
      'score = Σ grid − μ/σ = 1.2000 − 0.5000/2.0000 = 0.9500',
    ]);
  });
  it('names a MemMixup row as the mix it is', () => {
    const [clip, mix] = explainFixture().neighbours;
    expect(neighbourLabel(clip!)).toBe('section_00_target_train_normal_0012.wav');
    expect(neighbourLabel(mix!)).toBe(
      'mix of section_00_target_train_normal_0001.wav and section_00_source_train_normal_0200.wav, λ = 0.9',
    );
  });
  it('places bands on the mel rows where the spectrogram labels those frequencies', () => {
    for (const t of frequencyTicks(64)) {
      const hz = Number(t.label.replace('k', '')) * (t.label.endsWith('k') ? 1000 : 1);
      expect(hzToFraction(hz, 64)).toBeCloseTo(t.fraction, 9);
    }
    expect(hzToFraction(0, 64)).toBe(0);
    expect(hzToFraction(20000, 64)).toBe(1);
  });
  it('tiles the spectrogram with the grid cells on its time axis', () => {
    const cells = overlayCells(explainFixture(), 2, 64);
    expect(cells).toHaveLength(12);
    expect(cells[7]).toMatchObject({ x0: 0.5, x1: 0.75, value: 0.3 });
    expect(cells[7]!.y0).toBeCloseTo(hzToFraction(500, 64), 12);
    // A 4 s clip: the same cells take half the width.
    expect(overlayCells(explainFixture(), 4, 64)[11]).toMatchObject({ x0: 0.375, x1: 0.5 });
  });
  it('colours by sign with opacity growing with |value|, transparent at 0', () => {
    expect(maxAbs(explainFixture().grid.values)).toBe(0.4);
    expect(maxAbs([0, 0])).toBe(1);
    expect(divergingRgba(0.4, 0.4, 1)).toEqual([214, 39, 40, 255]);
    expect(divergingRgba(-0.2, 0.4, 1)).toEqual([31, 119, 180, 128]);
    expect(divergingRgba(0, 0.4)[3]).toBe(0);
  });
  it('draws the per-time curve at each step’s time on the clip’s width, top = largest', () => {
    const { points, zeroY } = perTimePoints(explainFixture(), 2);
    expect(points).toBe('12.50,83.33 37.50,50.00 62.50,0.00 87.50,66.67');
    expect(zeroY).toBe(100);
  });
});
