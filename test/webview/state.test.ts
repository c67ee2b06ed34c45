import { describe, expect, it } from 'vitest';
import type { RunResults } from '../../worker/src/protocol/results';
import type { PanelContent } from '../../worker/src/protocol/webviewProtocol';
import { oneBinSpectrogram } from '../helpers/spectrogram';
import { initialState, newRequests, reduce, type Action, type PanelViewState } from '../../webview-ui/src/state';

const results = { variants: [{ id: 'dn=transductive' }, { id: 'dn=inductive' }] } as unknown as RunResults;
const content: PanelContent = { kind: 'results', file: '/r/results.json', results };

function run(...actions: Action[]): PanelViewState {
  return actions.reduce(reduce, initialState);
}

describe('the panel reducer', () => {
  it('shows new content from a clean slate', () => {
    const s = run(
      { type: 'busy', message: 'running' },
      { type: 'show', content },
      { type: 'ui/sort', table: 'fan', column: 'score' },
    );
    expect(s.content).toBe(content);
    expect(s.busy).toBeUndefined();
    const again = reduce({ ...s, variantIndex: 1 }, { type: 'show', content });
    expect(again).toMatchObject({ variantIndex: 0, sort: {}, clip: undefined });
  });

  it('selects variants that exist only', () => {
    const s = run({ type: 'show', content });
    expect(reduce(s, { type: 'ui/selectVariant', index: 1 }).variantIndex).toBe(1);
    expect(reduce(s, { type: 'ui/selectVariant', index: 2 })).toBe(s);
    expect(reduce(s, { type: 'ui/selectVariant', index: -1 })).toBe(s);
  });

  it('sorts a table by a column, flipping on the second click; scores start highest first', () => {
    const s1 = run({ type: 'show', content }, { type: 'ui/sort', table: 'fan', column: 'score' });
    expect(s1.sort['fan']).toEqual({ column: 'score', direction: 'desc' });
    const s2 = reduce(s1, { type: 'ui/sort', table: 'fan', column: 'score' });
    expect(s2.sort['fan']).toEqual({ column: 'score', direction: 'asc' });
    const s3 = reduce(s2, { type: 'ui/sort', table: 'fan', column: 'name' });
    expect(s3.sort['fan']).toEqual({ column: 'name', direction: 'asc' });
    expect(s3.sort['pump']).toBeUndefined();
  });

  it('asks for the spectrogram and the audio of a clicked clip, once each', () => {
    const before = run({ type: 'show', content });
    const after = reduce(before, { type: 'ui/selectClip', file: '/d/a.wav', machineType: 'fan' });
    expect(newRequests(before, after)).toEqual([
      { type: 'request', requestId: 1, method: 'spectrogram', params: { file: '/d/a.wav' } },
      { type: 'request', requestId: 2, method: 'clipAudio', params: { file: '/d/a.wav' } },
    ]);
    expect(after.clip).toEqual({ file: '/d/a.wav', machineType: 'fan', errors: [] });
    const next = reduce(after, { type: 'ui/selectClip', file: '/d/b.wav' });
    expect(newRequests(after, next).map((r) => r.requestId)).toEqual([3, 4]);
  });

  it('fills the clip from replies, and drops a late reply for a clip no longer shown', () => {
    const a = run({ type: 'show', content }, { type: 'ui/selectClip', file: '/d/a.wav' });
    const b = reduce(a, { type: 'ui/selectClip', file: '/d/b.wav' }); // a's requests 1, 2 still in flight
    const late = reduce(b, {
      type: 'reply',
      requestId: 1,
      method: 'spectrogram',
      ok: true,
      result: oneBinSpectrogram('/d/a.wav'),
    });
    expect(late.clip).toEqual({ file: '/d/b.wav', errors: [] });
    expect(late.pending[1]).toBeUndefined();
    const filled = reduce(late, {
      type: 'reply',
      requestId: 3,
      method: 'spectrogram',
      ok: true,
      result: oneBinSpectrogram('/d/b.wav'),
    });
    expect(filled.clip?.spectrogram?.file).toBe('/d/b.wav');
    const failed = reduce(filled, {
      type: 'reply',
      requestId: 4,
      method: 'clipAudio',
      ok: false,
      error: '/d/b.wav: not a WAV file',
    });
    expect(failed.clip?.errors).toEqual(['clipAudio: /d/b.wav: not a WAV file']);
    expect(failed.pending).toEqual({ 2: { method: 'clipAudio', file: '/d/a.wav' } });
    // A reply nobody asked for changes nothing.
    const unasked: Action = {
      type: 'reply',
      requestId: 99,
      method: 'spectrogram',
      ok: true,
      result: oneBinSpectrogram('/x'),
    };
    expect(reduce(failed, unasked)).toBe(failed);
  });

  it('shows a clip sent by the host (Play Clip) with its requests', () => {
    const before = run({ type: 'show', content });
    const after = reduce(before, { type: 'showClip', file: '/d/c.wav' });
    expect(newRequests(before, after).map((r) => r.method)).toEqual(['spectrogram', 'clipAudio']);
    expect(after.content).toBe(content);
  });

  it('keeps an error until the next content or busy message', () => {
    const s = run({ type: 'error', message: 'worker stopped' });
    expect(s.error).toBe('worker stopped');
    expect(reduce(s, { type: 'busy', message: 'loading' }).error).toBeUndefined();
    expect(reduce(s, { type: 'show', content }).error).toBeUndefined();
  });
});
