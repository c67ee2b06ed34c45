import type { View } from 'vega';
import type { ChartFormat, FromWebview, PanelState, ToWebview } from '../../worker/src/protocol/webviewProtocol';
import { renderChart } from './charts';
import { compareView } from './compareView';
import { h } from './dom';
import { explainView, type ExplainViewParts } from './explainView';
import { drawColourBar, drawSpectrogram } from './spectrogram';
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
// The clip pane is a column of the layout beside the content (below it in a narrow panel), never an overlay.
const clipHolder = h('aside', { class: 'clip-holder', 'aria-label': 'clip' });
const layout = h('div', { class: 'layout' }, content, clipHolder);
app.replaceChildren(status, layout);

let state: PanelViewState = initialState;
let views: View[] = [];
/** Each rendered chart's view, by the element it was rendered into (for Save as SVG / PNG). */
const viewOf = new Map<HTMLElement, View>();
let charts: ChartSlot[] = [];
let tables = new Map<string, HTMLElement>();
let audioUrl: string | undefined;
let explainParts: ExplainViewParts | undefined;

const callbacks: ViewCallbacks = {
  dispatch: (action) => dispatch(action),
  reveal: (file) => vscode.postMessage({ type: 'revealFile', file }),
  open: (file) => vscode.postMessage({ type: 'openFile', file }),
  copy: (text, what) => vscode.postMessage({ type: 'copyText', text, what }),
  saveChart: (element, name, format) => void saveChart(element, name, format),
};

/**
 * A chart as a file: the live view rendered once more on the panel's own background (the panel draws charts on a
 * transparent one, which would leave a saved picture unreadable in the other theme), sent to the host to save.
 */
async function saveChart(element: HTMLElement, name: string, format: ChartFormat): Promise<void> {
  const view = viewOf.get(element);
  if (!view) {
    dispatch({ type: 'error', message: 'That chart has not finished drawing yet; try again in a moment.' });
    return;
  }
  const previous = view.background();
  try {
    view.background(getComputedStyle(document.body).backgroundColor);
    await view.runAsync();
    const data =
      format === 'svg' ? await view.toSVG() : (await view.toImageURL('png', 2)).replace(/^data:image\/png;base64,/, '');
    vscode.postMessage({ type: 'saveChart', name, format, data });
  } catch (err) {
    dispatch({
      type: 'error',
      message: `Saving the chart failed: ${err instanceof Error ? err.message : String(err)}`,
    });
  } finally {
    view.background(previous);
    await view.runAsync();
  }
}

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
  // Autoplay only when the clip's audio is new (an explanation arriving re-draws the pane but must not replay it).
  if (before.clip !== after.clip) renderClip(after, before.clip?.audio !== after.clip?.audio);
  // A narrow panel stacks the pane above the results: bring a newly opened clip into view (docked, it already is).
  if (after.clip && before.clip?.file !== after.clip.file) clipHolder.scrollIntoView({ block: 'nearest' });
}

function renderContent(s: PanelViewState): void {
  for (const v of views) v.finalize();
  views = [];
  viewOf.clear();
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
      : c.kind === 'compare'
        ? compareView(c.compare, callbacks)
        : scoredView(c.title, c.scored, callbacks);
  content.replaceChildren(built.root);
  charts = built.charts;
  tables = built.tables;
  renderTables(s);
  void renderCharts();
  vscode.setState(
    c.kind === 'results'
      ? { resultsFile: c.file }
      : c.kind === 'compare'
        ? { compareFiles: c.compare.runs.map((r) => r.file) }
        : {},
  );
}

function renderTables(s: PanelViewState): void {
  const c = s.content;
  if (!c) return;
  const selected = s.clip?.file;
  if (c.kind === 'compare') return; // its tables do not sort
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
      else {
        views.push(view);
        viewOf.set(slot.element, view);
      }
    } catch (err) {
      slot.element.replaceChildren(
        h('p', { class: 'error' }, `chart failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }
}

function renderClip(s: PanelViewState, autoplay = true): void {
  explainParts?.dispose();
  explainParts = undefined;
  for (const row of content.querySelectorAll('tr.selected')) {
    row.classList.remove('selected');
    row.setAttribute('aria-selected', 'false');
  }
  if (!s.clip) {
    const wasOpen = clipHolder.contains(document.activeElement);
    clipHolder.replaceChildren();
    layout.classList.remove('with-clip');
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = undefined;
    // Closing from inside the pane returns the focus to the table the clip was opened from.
    if (wasOpen) content.querySelector<HTMLElement>('table.files tbody tr[tabindex="0"]')?.focus();
    return;
  }
  for (const row of content.querySelectorAll<HTMLTableRowElement>('tr[data-path]'))
    if (row.dataset['path'] === s.clip.file) {
      row.classList.add('selected');
      row.setAttribute('aria-selected', 'true');
    }
  const { root, canvas, colourBar, audio } = clipDetail(s.clip, callbacks);
  clipHolder.replaceChildren(root);
  layout.classList.add('with-clip');
  if (canvas && s.clip.spectrogram) drawSpectrogram(canvas, s.clip.spectrogram);
  if (colourBar) drawColourBar(colourBar);
  if (s.clip.explain) {
    explainParts = explainView(s.clip, s.clip.explain);
    root.append(explainParts.root);
    explainParts.draw();
  }
  if (audioUrl) URL.revokeObjectURL(audioUrl);
  audioUrl = undefined;
  if (audio && s.clip.audio) {
    // Bytes → blob: URL inside the page (CSP media-src blob:); the page itself never reads the dataset folder.
    const bytes = Uint8Array.from(atob(s.clip.audio.wav), (ch) => ch.charCodeAt(0));
    audioUrl = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
    audio.src = audioUrl;
    if (autoplay) void audio.play().catch(() => undefined); // autoplay may be refused without a click in the page; the controls remain
  }
}

// Escape closes the clip pane (unless a control of its own, such as a select, uses the key).
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !event.defaultPrevented && state.clip) dispatch({ type: 'ui/closeClip' });
});

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
