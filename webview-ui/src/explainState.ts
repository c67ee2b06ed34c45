import type { ExplainNeighbour, ExplainResult } from '../../worker/src/protocol/explain';
import type { ClipAudioResult, SpectrogramResult } from '../../worker/src/protocol/workerProtocol';

/**
 * The explain view's part of the panel state (state.ts holds it on the clip it explains): the explanation once it
 * arrives, and the nearest normal clip's spectrogram and audio, asked for as soon as the explanation names it.
 * Pure, so the sequence request → answer → neighbour's requests is tested without a browser.
 */
export interface NearestClip {
  file: string;
  name: string;
  spectrogram?: SpectrogramResult;
  audio?: ClipAudioResult;
  errors: string[];
}

export interface ExplainState {
  /** Set once the answer arrives; until then the view says it is computing. */
  result?: ExplainResult;
  error?: string;
  nearest?: NearestClip;
}

/** A request the explain view registers (the reducer gives it an id and a pending entry). */
export interface ExplainFollowUp {
  method: 'spectrogram' | 'clipAudio';
  file: string;
}

/**
 * The neighbour to play against the clip: the nearest row that is a training clip with a path (a MemMixup row is a
 * mix of two clips, not something to play).
 */
export function playableNearest(result: ExplainResult): ExplainNeighbour | undefined {
  return result.neighbours.find((n) => typeof n.path === 'string' && n.path.length > 0);
}

/** The explanation arrived: keep it, and ask for the nearest normal clip's spectrogram and audio. */
export function explanationArrived(result: ExplainResult): { explain: ExplainState; followUps: ExplainFollowUp[] } {
  const nearest = playableNearest(result);
  if (!nearest?.path) return { explain: { result }, followUps: [] };
  return {
    explain: { result, nearest: { file: nearest.path, name: nearest.name, errors: [] } },
    followUps: [
      { method: 'spectrogram', file: nearest.path },
      { method: 'clipAudio', file: nearest.path },
    ],
  };
}

/** An answer for the nearest clip: stored if it is still the one shown, dropped otherwise. */
export function nearestAnswered(
  explain: ExplainState,
  file: string,
  answer:
    | { ok: true; method: 'spectrogram'; result: SpectrogramResult }
    | { ok: true; method: 'clipAudio'; result: ClipAudioResult }
    | { ok: false; method: string; error: string },
): ExplainState {
  const nearest = explain.nearest;
  if (!nearest || nearest.file !== file) return explain;
  if (!answer.ok)
    return { ...explain, nearest: { ...nearest, errors: [...nearest.errors, `${answer.method}: ${answer.error}`] } };
  return answer.method === 'spectrogram'
    ? { ...explain, nearest: { ...nearest, spectrogram: answer.result } }
    : { ...explain, nearest: { ...nearest, audio: answer.result } };
}
