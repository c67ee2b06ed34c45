import type { View } from 'vega';
import type { FromWebview, PanelState, ToWebview } from '../../worker/src/protocol/webviewProtocol';
import { renderChart } from './charts';
import { h } from './dom';
import { drawSpectrogram } from './spectrogram';
import { initialState, newRequests, reduce, type Action, type PanelViewState } from './state';
import { themeFromVariables } from './theme';
import {
  clipDetail,
  resultFileTable,
  resultsView,
  scoredFileTable,
  scoredView,
  type ChartSlot,
  type ViewCallbacks,
} from './views';
import './style.css';

/**
 * The results panel's entry point: acquires the VS Code API once, says `ready`, and from then on every host message
 * and every click becomes an Action for the reducer (state.ts); this file only re-draws what changed.
 */
declare function acquireVsCodeApi(): {
  postMessage(message: FromWebview): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
};

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const status = h('div', { class: 'status', role: 'status', 'data-testid': 'panel-status' });
const content = h('div', { class: 'content' });
const clipHolder = h('div', { class: 'clip-holder' });
app.replaceChildren(status, content, clipHolder);

let state: PanelViewState = initialState;
let views: View[] = [];
let charts: ChartSlot[] = [];
let tables = new Map<string, HTMLElement>();
let audioUrl: string | undefined;

const callbacks: ViewCallbacks = {
  dispatch: (action) => dispatch(action),
  reveal: (file) => vscode.postMessage({ type: 'revealFile', file }),
  open: (file) => vscode.postMessage({ type: 'openFile', file }),
};

function dispatch(action: Action): void {
  const before = state;
  state = reduce(state, action);
  for (const request of newRequests(before, state)) vscode.postMessage(request);
  render(before, state);
}

function render(before: PanelViewState, after: PanelViewState): void {
  status.textContent = after.error ?? after.busy ?? '';
  status.className = after.error ? 'status error' : 'status';
  if (before.content !== after.content || before.variantIndex !== after.variantIndex) {
    renderContent(after);
  } else if (before.sort !== after.sort) {
    renderTables(after);
  }
  if (before.clip !== after.clip) renderClip(after);
}

function renderContent(s: PanelViewState): void {
  for (const v of views) v.finalize();
  views = [];
  const c = s.content;
  if (!c) {
    content.replaceChildren(
      h('p', { class: 'placeholder' }, 'Run an experiment or open a results.json to see its results here.'),
    );
    charts = [];
    tables = new Map();
    return;
  }
  const built =
    c.kind === 'results'
      ? resultsView(c.file, c.results, s.variantIndex, callbacks)
      : scoredView(c.title, c.scored, callbacks);
  content.replaceChildren(built.root);
  charts = built.charts;
  tables = built.tables;
  renderTables(s);
  void renderCharts();
  vscode.setState(c.kind === 'results' ? { resultsFile: c.file } : {});
}

function renderTables(s: PanelViewState): void {
  const c = s.content;
  if (!c) return;
  const selected = s.clip?.file;
  if (c.kind === 'scored') {
    tables.get('scored')?.replaceChildren(scoredFileTable(c.scored, s.sort['scored'], selected, callbacks));
    return;
  }
  const variant = c.results.variants[s.variantIndex] ?? c.results.variants[0]!;
  for (const m of variant.machines)
    tables.get(m.machineType)?.replaceChildren(resultFileTable(m, s.sort[m.machineType], selected, callbacks));
}

async function renderCharts(): Promise<void> {
  const theme = themeFromVariables((name) => getComputedStyle(document.documentElement).getPropertyValue(name));
  const slots = charts;
  for (const slot of slots) {
    try {
      const view = await renderChart(slot.element, slot.spec, theme);
      if (charts !== slots)
        view.finalize(); // the content changed while this one rendered
      else views.push(view);
    } catch (err) {
      slot.element.replaceChildren(
        h('p', { class: 'error' }, `chart failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }
}

function renderClip(s: PanelViewState): void {
  for (const row of content.querySelectorAll('tr.selected')) row.classList.remove('selected');
  if (!s.clip) {
    clipHolder.replaceChildren();
    return;
  }
  for (const row of content.querySelectorAll<HTMLTableRowElement>('tr[data-path]'))
    if (row.dataset['path'] === s.clip.file) row.classList.add('selected');
  const { root, canvas, audio } = clipDetail(s.clip, callbacks);
  clipHolder.replaceChildren(root);
  if (canvas && s.clip.spectrogram) drawSpectrogram(canvas, s.clip.spectrogram);
  if (audioUrl) URL.revokeObjectURL(audioUrl);
  audioUrl = undefined;
  if (audio && s.clip.audio) {
    // Bytes → blob: URL inside the page (CSP media-src blob:); the page itself never reads the dataset folder.
    const bytes = Uint8Array.from(atob(s.clip.audio.wav), (ch) => ch.charCodeAt(0));
    audioUrl = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
    audio.src = audioUrl;
    void audio.play().catch(() => undefined); // autoplay may be refused without a click in the page; the controls remain
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const data = event.data as ToWebview | undefined;
  if (!data || typeof data !== 'object' || typeof (data as { type?: unknown }).type !== 'string') return;
  dispatch(data);
});

// Theme switches re-colour the charts: VS Code swaps the body's theme class and its CSS variables.
new MutationObserver(() => {
  if (charts.length > 0) renderContent(state);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

renderContent(state);
vscode.postMessage({ type: 'ready' });
