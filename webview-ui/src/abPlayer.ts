/**
 * The explain view's A/B player as a small state machine: "Play clip" and "Play nearest normal" play one track, "A/B"
 * plays the clip and then the nearest normal clip. Pure: the view feeds it button presses and the audio element's
 * `ended` events and plays whatever `playing` says.
 */
export type AbTrack = 'clip' | 'nearest';
export type AbMode = AbTrack | 'ab';

export interface AbPlayer {
  playing: AbTrack | undefined;
  /** What plays after the current track ends. */
  queue: AbTrack[];
}

export const AB_IDLE: AbPlayer = { playing: undefined, queue: [] };

/** A button: starts its sequence from the top (pressing again restarts it), with what can be played only. */
export function abStart(mode: AbMode, available: ReadonlySet<AbTrack>): AbPlayer {
  const tracks = (mode === 'ab' ? (['clip', 'nearest'] as const) : [mode]).filter((t) => available.has(t));
  const [first, ...rest] = tracks;
  return first === undefined ? AB_IDLE : { playing: first, queue: rest };
}

/** The track ended: the next one in the queue, or idle. */
export function abEnded(player: AbPlayer): AbPlayer {
  const [next, ...rest] = player.queue;
  return next === undefined ? AB_IDLE : { playing: next, queue: rest };
}

/** What the status line under the buttons says. */
export function abStatus(player: AbPlayer): string {
  if (!player.playing) return '';
  const now = player.playing === 'clip' ? 'A: the clip' : 'B: the nearest normal clip';
  return player.queue.length > 0 ? `playing ${now}, then B` : `playing ${now}`;
}
