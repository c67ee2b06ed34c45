import type { PanelContent, PanelMethod, ToWebview } from '../../worker/src/protocol/webviewProtocol';
import type { ClipAudioResult, SpectrogramResult } from '../../worker/src/protocol/workerProtocol';
import { explanationArrived, nearestAnswered, type ExplainState } from './explainState';
import { nextSort, type SortSpec } from './sorting';

/**
 * The panel's state and its one reducer: every host message (ToWebview) and every user action goes through
 * `reduce`, so what the panel does with a message is tested without a browser. Rendering reads the state only.
 */
export type FileColumn = 'name' | 'section' | 'domain' | 'label' | 'score' | 'd_source' | 'd_target' | 'decision';
export const NUMERIC_COLUMNS: ReadonlySet<FileColumn> = new Set(['score', 'd_source', 'd_target', 'decision']);

export interface ClipView {
  file: string;
  /** The machine type whose table the clip was picked from, if any. */
  machineType?: string;
  spectrogram?: SpectrogramResult;
  audio?: ClipAudioResult;
  /** Why the spectrogram or audio could not be had. */
  errors: string[];
  /** Asked to explain the clip (the Explain button): the explanation and its nearest normal clip (explainState.ts). */
  explain?: ExplainState;
}

export interface PanelViewState {
  content: PanelContent | undefined;
  variantIndex: number;
  /** Sort of each file table, by table key (a machine type, or 'scored'). */
  sort: Record<string, SortSpec<FileColumn>>;
  clip: ClipView | undefined;
  /** Requests in flight: which clip each answer belongs to (a late answer for another clip is dropped). */
  pending: Record<number, PendingRequest>;
  nextRequestId: number;
  busy: string | undefined;
  error: string | undefined;
}

/** A request in flight; `variant` goes with an explainClip, `forExplain` marks the nearest normal clip's requests. */
export interface PendingRequest {
  method: PanelMethod;
  file: string;
  variant?: string;
  forExplain?: true;
}

export type UiAction =
  | { type: 'ui/selectVariant'; index: number }
  | { type: 'ui/sort'; table: string; column: FileColumn }
  /** A row was clicked: the caller then sends the requests `clipRequests` lists. */
  | { type: 'ui/selectClip'; file: string; machineType?: string }
  /** The clip pane's close button or Escape: answers still in flight for the clip are then dropped. */
  | { type: 'ui/closeClip' }
  /** A row's Explain button: selects the clip (if it is not) and asks the host why it scored as it did. */
  | { type: 'ui/explainClip'; file: string; machineType?: string };

export type Action = ToWebview | UiAction;

export const initialState: PanelViewState = {
  content: undefined,
  variantIndex: 0,
  sort: {},
  clip: undefined,
  pending: {},
  nextRequestId: 1,
  busy: undefined,
  error: undefined,
};

export function reduce(state: PanelViewState, action: Action): PanelViewState {
  switch (action.type) {
    case 'show':
      return {
        ...state,
        content: action.content,
        variantIndex: 0,
        sort: {},
        busy: undefined,
        error: undefined,
        clip: undefined,
        pending: {},
      };
    case 'showClip':
      return selectClip(state, action.file, undefined);
    case 'busy':
      return { ...state, busy: action.message, error: undefined };
    case 'error':
      return { ...state, busy: undefined, error: action.message };
    case 'reply': {
      const request = state.pending[action.requestId];
      if (!request) return state;
      const pending = { ...state.pending };
      delete pending[action.requestId];
      if (request.method === 'explainClip' || request.forExplain)
        return explainReply({ ...state, pending }, request, action);
      if (!state.clip || state.clip.file !== request.file) return { ...state, pending };
      let clip: ClipView;
      if (!action.ok) clip = { ...state.clip, errors: [...state.clip.errors, `${action.method}: ${action.error}`] };
      else if (action.method === 'explainClip') return { ...state, pending };
      else if (action.method === 'spectrogram') clip = { ...state.clip, spectrogram: action.result };
      else clip = { ...state.clip, audio: action.result };
      return { ...state, pending, clip };
    }
    case 'ui/selectVariant': {
      const variants = state.content?.kind === 'results' ? state.content.results.variants.length : 0;
      if (!Number.isInteger(action.index) || action.index < 0 || action.index >= variants) return state;
      return { ...state, variantIndex: action.index, sort: {} };
    }
    case 'ui/sort':
      return {
        ...state,
        sort: {
          ...state.sort,
          [action.table]: nextSort(state.sort[action.table], action.column, NUMERIC_COLUMNS.has(action.column)),
        },
      };
    case 'ui/selectClip':
      return selectClip(state, action.file, action.machineType);
    case 'ui/closeClip':
      return state.clip ? { ...state, clip: undefined } : state;
    case 'ui/explainClip':
      return explainClip(state, action.file, action.machineType);
    default: {
      const unreachable: never = action;
      return unreachable;
    }
  }
}

/** Selecting a clip registers one spectrogram and one audio request for it (ids from the state, so they are unique). */
function selectClip(state: PanelViewState, file: string, machineType: string | undefined): PanelViewState {
  const spectrogramId = state.nextRequestId;
  const audioId = spectrogramId + 1;
  return {
    ...state,
    clip: { file, ...(machineType !== undefined ? { machineType } : {}), errors: [] },
    pending: {
      ...state.pending,
      [spectrogramId]: { method: 'spectrogram', file },
      [audioId]: { method: 'clipAudio', file },
    },
    nextRequestId: audioId + 1,
  };
}

/**
 * The Explain button: the clip's pane (selected now if it is not yet) gets an explain view that computes, and one
 * explainClip request goes out with the shown variant (a run's) so the host explains it as the table scored it.
 */
function explainClip(state: PanelViewState, file: string, machineType: string | undefined): PanelViewState {
  const selected = state.clip?.file === file ? state : selectClip(state, file, machineType);
  const id = selected.nextRequestId;
  const content = state.content;
  const variant =
    content?.kind === 'results' && content.results.variants.length > 1
      ? content.results.variants[state.variantIndex]?.id
      : undefined;
  return {
    ...selected,
    clip: { ...selected.clip!, explain: {} },
    pending: {
      ...selected.pending,
      [id]: { method: 'explainClip', file, ...(variant !== undefined ? { variant } : {}) },
    },
    nextRequestId: id + 1,
  };
}

/** An answer for the explain view: the explanation (then the nearest clip's requests), or the nearest clip's data. */
function explainReply(
  state: PanelViewState,
  request: PendingRequest,
  action: Extract<ToWebview, { type: 'reply' }>,
): PanelViewState {
  const clip = state.clip;
  if (!clip?.explain) return state;
  if (request.method === 'explainClip') {
    if (clip.file !== request.file) return state;
    if (!action.ok) return { ...state, clip: { ...clip, explain: { error: action.error } } };
    if (action.method !== 'explainClip') return state;
    const { explain, followUps } = explanationArrived(action.result);
    const pending = { ...state.pending };
    let id = state.nextRequestId;
    for (const f of followUps) pending[id++] = { method: f.method, file: f.file, forExplain: true };
    return { ...state, pending, nextRequestId: id, clip: { ...clip, explain } };
  }
  const answer = !action.ok
    ? { ok: false as const, method: action.method, error: action.error }
    : action.method === 'spectrogram'
      ? { ok: true as const, method: action.method, result: action.result }
      : action.method === 'clipAudio'
        ? { ok: true as const, method: action.method, result: action.result }
        : undefined;
  if (!answer) return state;
  return { ...state, clip: { ...clip, explain: nearestAnswered(clip.explain, request.file, answer) } };
}

/** The requests registered between two states (by a clip selection), as messages to post to the host. */
export function newRequests(
  before: PanelViewState,
  after: PanelViewState,
): { type: 'request'; requestId: number; method: PanelMethod; params: { file: string; variant?: string } }[] {
  return Object.entries(after.pending)
    .map(([id, p]) => ({ id: Number(id), p }))
    .filter(({ id }) => id >= before.nextRequestId)
    .sort((a, b) => a.id - b.id)
    .map(({ id, p }) => ({
      type: 'request' as const,
      requestId: id,
      method: p.method,
      params: { file: p.file, ...(p.variant !== undefined ? { variant: p.variant } : {}) },
    }));
}
