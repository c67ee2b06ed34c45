/**
 * Messages between the extension host and the results panel (webview-ui/), both directions as tagged unions.
 * Type-only: the browser bundle imports it without any worker code. The handshake follows custom-editor-sample:
 * the panel posts `ready`, and only then does the host send what to show. The panel's own requests (a clip's
 * spectrogram or audio) carry a requestId that the host's `reply` echoes.
 */
import type { ExplainResult } from './explain';
import type { RunResults } from './results';
import type { CompareResult } from './compare';
import type { ClipAudioResult, ScoreFilesResult, SpectrogramResult } from './workerProtocol';

/** What the panel shows: a run's results, new files scored against a saved bank, or runs compared. */
export type PanelContent =
  | { kind: 'results'; file: string; results: RunResults }
  | { kind: 'scored'; title: string; scored: ScoreFilesResult }
  /** Two or more runs compared (genrep/compareRuns): A is the first, each other run compared with A. */
  | { kind: 'compare'; compare: CompareResult };

/** Requests the panel makes of the host; the host answers each with a `reply` of the matching method. */
export interface PanelRequests {
  spectrogram: { params: { file: string }; result: SpectrogramResult };
  clipAudio: { params: { file: string }; result: ClipAudioResult };
  /**
   * Why a clip of the shown content scored as it did (`genrep/explainClip` against the run's results.json, in
   * `variant`, or the scoring's bank). The neighbours' paths in the answer become files the panel may play.
   */
  explainClip: { params: { file: string; variant?: string }; result: ExplainResult };
}
export type PanelMethod = keyof PanelRequests;

export type PanelRequest = {
  [M in PanelMethod]: { type: 'request'; requestId: number; method: M; params: PanelRequests[M]['params'] };
}[PanelMethod];

export type PanelReply =
  | {
      [M in PanelMethod]: { type: 'reply'; requestId: number; method: M; ok: true; result: PanelRequests[M]['result'] };
    }[PanelMethod]
  | { type: 'reply'; requestId: number; method: PanelMethod; ok: false; error: string };

/** Host → panel. */
export type ToWebview =
  | { type: 'show'; content: PanelContent }
  /** Play a clip and show its spectrogram (the Dataset Explorer's "Play Clip"), beside whatever is shown. */
  | { type: 'showClip'; file: string }
  | { type: 'busy'; message: string }
  | { type: 'error'; message: string }
  | PanelReply;

/** What the panel keeps with vscode.setState, so a reloaded window can bring the same results back. */
export interface PanelState {
  resultsFile?: string;
  /** A comparison: the results.json files compared, A first. */
  compareFiles?: string[];
}

/** Panel → host. */
export type FromWebview =
  | { type: 'ready' }
  | PanelRequest
  /** Open a file of the shown content (its config, results.json, report.html, or a clip) in the editor. */
  | { type: 'openFile'; file: string }
  /** Reveal a clip in the explorer / the OS file manager. */
  | { type: 'revealFile'; file: string }
  /**
   * Put text on the clipboard (a metric table as Markdown or CSV): the host's clipboard, since a webview's
   * navigator.clipboard is not reliably allowed. `what` names it in the confirmation.
   */
  | { type: 'copyText'; text: string; what: string }
  /** Save a chart the panel rendered: SVG markup, or PNG bytes as base64; the host asks where (a save dialog). */
  | { type: 'saveChart'; name: string; format: ChartFormat; data: string };

/** The formats a chart can be saved in. */
export type ChartFormat = 'svg' | 'png';
