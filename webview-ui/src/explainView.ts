import type { ExplainResult } from '../../worker/src/protocol/explain';
import type { ClipAudioResult, SpectrogramResult } from '../../worker/src/protocol/workerProtocol';
import { abEnded, abStart, abStatus, AB_IDLE, type AbMode, type AbPlayer, type AbTrack } from './abPlayer';
import { h } from './dom';
import {
  decompositionLines,
  divergingRgba,
  maxAbs,
  neighbourLabel,
  overlayCells,
  perTimePoints,
} from './explainFormat';
import type { ExplainState } from './explainState';
import { drawSpectrogram, frequencyTicks, timeTicks } from './spectrogram';
import type { ClipView } from './state';
import { axis, fmt } from './views';
import './explain.css';

/**
 * The explain view, in the clip pane under the clip (never over the tables): the clip's spectrogram with the
 * contribution heat map laid over it and the per-time curve under it on the same time axis, the nearest normal clip's
 * spectrogram below on that axis too, an A/B player, the nearest rows with their distances, and how the score
 * decomposes. data-testids: explain-view, explain-progress, explain-error, explain-decomposition, explain-heatmap,
 * explain-per-time, explain-nearest, explain-nearest-spectrogram, explain-play-clip, explain-play-nearest,
 * explain-play-ab, explain-audio, explain-neighbours, explain-neighbour-<i>.
 */
export interface ExplainViewParts {
  root: HTMLElement;
  /** Draws the canvases once the root is in the page. */
  draw(): void;
  /** Stops playback and frees the audio's blob: URLs (the pane is re-rendered or closed). */
  dispose(): void;
}

const SVG = 'http://www.w3.org/2000/svg';

export function explainView(clip: ClipView, explain: ExplainState): ExplainViewParts {
  const root = h(
    'section',
    { class: 'explain-view', 'data-testid': 'explain-view', 'aria-label': 'why this score' },
    h('h4', {}, 'Why this score'),
  );
  const result = explain.result;
  if (explain.error !== undefined) {
    root.append(
      h('p', { class: 'error', role: 'alert', 'data-testid': 'explain-error' }, `Explaining failed: ${explain.error}`),
    );
    return { root, draw: () => undefined, dispose: () => undefined };
  }
  if (!result) {
    root.append(
      h(
        'p',
        { class: 'muted', role: 'status', 'data-testid': 'explain-progress' },
        'explaining… (the clip’s distance split over time × frequency, and its nearest normal clips)',
      ),
    );
    return { root, draw: () => undefined, dispose: () => undefined };
  }
  const duration = clip.spectrogram?.durationSec ?? gridDuration(result);
  const heat = heatFigure(result, clip.spectrogram, duration);
  const nearest = nearestFigure(explain, duration);
  const player = abPlayer(clip.audio, explain.nearest?.audio);
  root.append(
    h(
      'div',
      { class: 'explain-decomposition', 'data-testid': 'explain-decomposition' },
      ...decompositionLines(result).map((line) => h('p', {}, line)),
    ),
    heat.root,
    h(
      'p',
      { class: 'muted' },
      `heat map over the spectrogram: red adds to the ${result.dnStats ? 'distance ÷ σ' : 'distance'}, blue takes from it (opacity ∝ |contribution|, largest ${fmt(maxAbs(result.grid.values))}); ${result.grid.times} time steps × ${result.grid.bands} bands`,
    ),
    nearest.root,
    player.root,
    neighboursList(result),
  );
  return {
    root,
    draw: () => {
      heat.draw();
      nearest.draw();
    },
    dispose: () => player.dispose(),
  };
}

function gridDuration(result: ExplainResult): number {
  const t = result.grid.timeSeconds;
  const last = t[t.length - 1] ?? 1;
  const step = t.length > 1 ? last - t[t.length - 2]! : last;
  return last + step / 2;
}

/** The clip's spectrogram, the heat map over it (same pixels, semi-transparent), the per-time curve under it. */
function heatFigure(
  result: ExplainResult,
  spectrogram: SpectrogramResult | undefined,
  duration: number,
): { root: HTMLElement; draw(): void } {
  const bins = spectrogram?.bins ?? 64;
  const image = spectrogram
    ? h('canvas', { class: 'explain-image', 'aria-hidden': 'true' })
    : h('div', { class: 'explain-image explain-blank', 'aria-hidden': 'true' });
  const overlay = h('canvas', {
    class: 'explain-image explain-overlay',
    'data-testid': 'explain-heatmap',
    role: 'img',
    'aria-label': `contributions over time × frequency: red adds to the distance, blue takes from it; largest ${fmt(maxAbs(result.grid.values))}`,
  });
  const { points, zeroY } = perTimePoints(result, duration);
  const curve = document.createElementNS(SVG, 'svg');
  curve.setAttribute('viewBox', '0 0 100 100');
  curve.setAttribute('preserveAspectRatio', 'none');
  curve.setAttribute('class', 'explain-per-time');
  curve.setAttribute('data-testid', 'explain-per-time');
  curve.setAttribute('role', 'img');
  curve.setAttribute(
    'aria-label',
    `per-time contribution: ${result.perTime.length} steps, largest at ${fmt(result.grid.timeSeconds[argMax(result.perTime)] ?? 0)} s`,
  );
  const zero = document.createElementNS(SVG, 'line');
  for (const [k, v] of [
    ['x1', '0'],
    ['x2', '100'],
    ['y1', String(zeroY)],
    ['y2', String(zeroY)],
    ['class', 'zero'],
  ] as const)
    zero.setAttribute(k, v);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points);
  line.setAttribute('class', 'curve');
  curve.append(zero, line);
  const root = h(
    'figure',
    { class: 'explain-figure' },
    h('div', { class: 'axis-title area-ytitle' }, 'Hz'),
    spectrogram ? axis('y', frequencyTicks(bins), 'explain-frequency-axis', 'yaxis') : null,
    image,
    overlay,
    h('div', { class: 'axis-title area-ptitle' }, 'per time'),
    curve,
    axis('x', timeTicks(duration), 'explain-time-axis', 'xaxis'),
    h('div', { class: 'axis-title area-xtitle' }, 'time (s)'),
  );
  return {
    root,
    draw: () => {
      if (spectrogram && image instanceof HTMLCanvasElement) drawSpectrogram(image, spectrogram);
      drawOverlay(overlay, result, duration, spectrogram?.frames ?? 200, bins);
    },
  };
}

function drawOverlay(
  canvas: HTMLCanvasElement,
  result: ExplainResult,
  duration: number,
  width: number,
  height: number,
): void {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return;
  const half = maxAbs(result.grid.values);
  for (const c of overlayCells(result, duration, height)) {
    const [r, g, b, a] = divergingRgba(c.value, half);
    context.fillStyle = `rgba(${r}, ${g}, ${b}, ${(a / 255).toFixed(3)})`;
    context.fillRect(c.x0 * width, (1 - c.y1) * height, (c.x1 - c.x0) * width, (c.y1 - c.y0) * height);
  }
}

/** The nearest normal clip on the same time axis (a shorter clip takes its share of the width). */
function nearestFigure(explain: ExplainState, duration: number): { root: HTMLElement; draw(): void } {
  const result = explain.result!;
  const nearest = explain.nearest;
  const first = result.neighbours[0];
  if (!nearest) {
    const root = h(
      'p',
      { class: 'muted', 'data-testid': 'explain-nearest' },
      first ? `nearest: ${neighbourLabel(first)} (no training clip to play)` : 'no neighbours named',
    );
    return { root, draw: () => undefined };
  }
  const s = nearest.spectrogram;
  const canvas = s
    ? h('canvas', {
        class: 'explain-image',
        'data-testid': 'explain-nearest-spectrogram',
        'aria-label': `log-mel spectrogram of ${nearest.name}`,
      })
    : undefined;
  if (canvas && s && duration > 0)
    canvas.style.width = `${Math.min(100, (100 * s.durationSec) / duration).toFixed(2)}%`;
  const root = h(
    'div',
    { class: 'explain-nearest-block' },
    h('h5', { 'data-testid': 'explain-nearest', title: nearest.file }, `Nearest normal: ${nearest.name}`),
    canvas
      ? h(
          'figure',
          { class: 'explain-figure explain-nearest-figure' },
          h('div', { class: 'axis-title area-ytitle' }, 'Hz'),
          axis('y', frequencyTicks(s!.bins), 'explain-nearest-frequency-axis', 'yaxis'),
          canvas,
          axis('x', timeTicks(duration), 'explain-nearest-time-axis', 'xaxis'),
        )
      : nearest.errors.length === 0
        ? h('p', { class: 'muted' }, 'computing its spectrogram…')
        : null,
    ...nearest.errors.map((e) => h('p', { class: 'error' }, e)),
  );
  return { root, draw: () => (canvas && s ? drawSpectrogram(canvas, s) : undefined) };
}

/** Play clip / Play nearest normal / A/B (one after the other) on one audio element. */
function abPlayer(
  clipAudio: ClipAudioResult | undefined,
  nearestAudio: ClipAudioResult | undefined,
): { root: HTMLElement; dispose(): void } {
  const urls = new Map<AbTrack, string>();
  if (clipAudio) urls.set('clip', blobUrl(clipAudio.wav));
  if (nearestAudio) urls.set('nearest', blobUrl(nearestAudio.wav));
  const audio = h('audio', { controls: '', preload: 'auto', 'data-testid': 'explain-audio' });
  const status = h('span', { class: 'muted', 'aria-live': 'polite' });
  let player: AbPlayer = AB_IDLE;
  const play = (next: AbPlayer): void => {
    player = next;
    status.textContent = abStatus(player);
    const url = player.playing ? urls.get(player.playing) : undefined;
    if (!url) return;
    audio.src = url;
    void audio.play().catch(() => undefined);
  };
  audio.addEventListener('ended', () => play(abEnded(player)));
  const available = new Set(urls.keys());
  const button = (mode: AbMode, label: string, testid: string): HTMLButtonElement => {
    const needs: AbTrack[] = mode === 'ab' ? ['clip', 'nearest'] : [mode];
    const b = h('button', { type: 'button', class: 'action', 'data-testid': testid }, label);
    b.disabled = !needs.every((t) => available.has(t));
    b.addEventListener('click', () => play(abStart(mode, available)));
    return b;
  };
  const root = h(
    'div',
    { class: 'explain-player', role: 'group', 'aria-label': 'compare by ear' },
    button('clip', 'Play clip', 'explain-play-clip'),
    button('nearest', 'Play nearest normal', 'explain-play-nearest'),
    button('ab', 'A/B', 'explain-play-ab'),
    status,
    audio,
  );
  return {
    root,
    dispose: () => {
      audio.pause();
      for (const url of urls.values()) URL.revokeObjectURL(url);
    },
  };
}

function neighboursList(result: ExplainResult): HTMLElement {
  return h(
    'div',
    {},
    h('h5', {}, `Nearest rows of the '${result.bank}' bank (K_n = ${result.K_n})`),
    h(
      'ol',
      { class: 'explain-neighbours', 'data-testid': 'explain-neighbours' },
      ...result.neighbours.map((n, i) =>
        h(
          'li',
          { 'data-testid': `explain-neighbour-${i}`, title: n.path ?? n.name },
          neighbourLabel(n),
          h('span', { class: 'muted' }, ` — distance ${fmt(n.distance)}${n.mix ? ' (MemMixup row)' : ''}`),
        ),
      ),
    ),
  );
}

function blobUrl(base64: string): string {
  // Bytes → blob: URL inside the page (CSP media-src blob:), as the clip pane does.
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
}

function argMax(values: readonly number[]): number {
  let best = 0;
  // i < values.length and best is always a visited index.
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
