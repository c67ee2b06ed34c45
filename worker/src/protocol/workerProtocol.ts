/**
 * The extension ↔ worker protocol: JSON-RPC 2.0 with the Language Server Protocol's base framing
 * (`Content-Length: N\r\n\r\n` + UTF-8 JSON) over the worker's stdin/stdout. This file is its single declaration:
 * the worker registers handlers by these method names and the extension calls them through the same map, so the
 * compiler checks both ends, and schemas/protocol/ is generated from these types for workers in other languages.
 *
 * Lifecycle, progress and cancellation are LSP's own, so vscode-languageclient can start, watch and restart the
 * worker: `initialize` → `initialized` → requests … → `shutdown` → `exit`; long requests take a `workDoneToken` and
 * report through `$/progress` (begin / report / end); the client cancels with `$/cancelRequest`, and the request then
 * fails with RequestCancelled (−32800) after the job stopped at its next clip boundary.
 *
 * Everything here is JSON-safe (no typed arrays; big arrays travel as base64) and type-only apart from the small
 * method tables at the end, so the browser bundle and the extension can import it without pulling in worker code.
 */
import type { ExplainResult } from './explain';
import type { CompareResult } from './compare';
import type { RunConfig, EmbedderConfig } from './runConfig';
import type { DnMode, Domain, Label, MemMixup, PaperDefaults, Pooling } from './vocabulary';
import type { RunResults, Metrics } from './results';
import type { BankFileHeader } from './bankHeader';
import type { Range } from './positions';
import type { WorkerErrorData } from './errors';

/** Bumped when a method's params or result change incompatibly; the worker reports it in `initialize`. */
export const PROTOCOL_VERSION = 1;

// ─── Lifecycle (LSP) ──────────────────────────────────────────────────────────────────────────────────────────────

/** What the extension passes as `initializationOptions` (its settings); anything left out uses the worker's defaults. */
export interface WorkerSettings {
  /** Where named checkpoints live (default $GENREP_MODEL_DIR or ~/.cache/genrep/models). */
  modelDir?: string;
  /** Feature cache and converted models (default $GENREP_CACHE_DIR or ~/.cache/genrep/cache). */
  cacheDir?: string;
  /** CPU threads for feature extraction and for scoring grid cells when a run config does not say (default: all cores). */
  threads?: number;
}

/**
 * The editor settings (`genrep.<key>` in package.json) the worker process is started with — the WorkerSettings above,
 * and the Node binary that runs it — so changing one needs a worker restart. The extension lists them once, checked
 * against this type (extension/src/commandIds.ts).
 */
export type RestartSetting = 'modelDirectory' | 'cacheDirectory' | 'workerThreads' | 'nodePath';

/** The part of LSP's InitializeParams the worker reads; clients send more, which the worker ignores. */
export interface InitializeParams {
  processId: number | null;
  initializationOptions?: WorkerSettings;
  [lspField: string]: unknown;
}

export interface InitializeResult {
  /** Empty: the worker offers no LSP language features, only the genrep/ methods below. */
  capabilities: Record<string, never>;
  serverInfo: { name: string; version: string };
  genrep: {
    protocolVersion: number;
    /** The worker's process id, shown in the status bar's tooltip (and used by tests that kill it). */
    pid: number;
    /** The methods this worker implements (a Python worker might implement a subset). */
    methods: string[];
    /**
     * The paper's settings (worker/src/protocol/vocabulary.ts's PAPER_DEFAULTS): the extension's defaults for new
     * run configs and memory banks, so it holds no copy of its own.
     */
    paperDefaults: PaperDefaults;
  };
}

// ─── Progress (LSP work-done progress, sent as `$/progress` {token, value}) ───────────────────────────────────────

export type ProgressToken = number | string;

/** Mixed into the params of every long request: the client's token for `$/progress` notifications. */
export interface WorkDoneProgressParams {
  workDoneToken?: ProgressToken;
}

/** Where a job is; `queued` while another job holds the worker (jobs run one at a time). */
export type JobStage = 'queued' | 'discover' | 'extract' | 'score' | 'write' | 'download' | 'bank';

export interface WorkDoneProgressBegin {
  kind: 'begin';
  title: string;
  /** Always true for genrep jobs: `$/cancelRequest` on the request stops the job at the next clip. */
  cancellable?: boolean;
  message?: string;
  percentage?: number;
}

export interface WorkDoneProgressReport {
  kind: 'report';
  cancellable?: boolean;
  message?: string;
  /** 0..100 over the whole job; stages are weighted (extraction dominates). */
  percentage?: number;
  /** GenRep's additions to LSP's report: the stage and its own counter, e.g. clips done of total. */
  stage?: JobStage;
  done?: number;
  total?: number;
}

export interface WorkDoneProgressEnd {
  kind: 'end';
  message?: string;
}

export type WorkDoneProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export interface ProgressParams {
  token: ProgressToken;
  value: WorkDoneProgressValue;
}

// ─── Datasets ─────────────────────────────────────────────────────────────────────────────────────────────────────

export type LayoutName = 'auto' | 'dcase2023' | 'dcase2020' | 'generic';

export interface ListDatasetsParams {
  /** Dataset roots: folders holding one sub-folder per machine type (or one machine type's train/ and test/). */
  roots: string[];
  /** Default 'auto'. */
  layout?: LayoutName;
}

export interface ClipInfo {
  /** Absolute path. */
  path: string;
  name: string;
  section: string;
  split: 'train' | 'test';
  /** null where the layout carries no domain (DCASE 2020). */
  domain: Domain | null;
  /** null for unlabelled test clips. */
  label: Label | null;
  attributes: Record<string, string>;
}

export interface MachineListing {
  machineType: string;
  sections: string[];
  /** Source clips first, then target, each by name (the memory banks' row order). */
  train: ClipInfo[];
  test: ClipInfo[];
}

export interface DatasetFound {
  root: string;
  status: 'ok';
  /** The root with symbolic links resolved. */
  resolvedRoot: string;
  layout: string;
  machines: MachineListing[];
  /** Files that fit no naming rule, with the reason. */
  skipped: { path: string; reason: string }[];
}

export interface DatasetProblem {
  root: string;
  /** 'missing': the root does not exist (any more); 'error': it exists but is not a dataset we can read. */
  status: 'missing' | 'error';
  message: string;
  error: WorkerErrorData;
}

export type DatasetListing = DatasetFound | DatasetProblem;

export interface ListDatasetsResult {
  /** One entry per requested root, in the order given; a root's failure never fails the others. */
  datasets: DatasetListing[];
}

// ─── Run configs and experiments ──────────────────────────────────────────────────────────────────────────────────

export interface ValidateConfigParams {
  /** The config's path; relative paths inside it resolve against its folder. */
  file: string;
  /** The editor's current text, when it differs from the file on disk. */
  text?: string;
}

export interface ConfigDiagnostic {
  range: Range;
  severity: 'error' | 'warning';
  message: string;
  /** JSON pointer of the offending value ('' for the whole document, or a parse error's position). */
  pointer: string;
  /**
   * What the check was: 'json' (syntax), 'schema' (ajv keyword), 'file' (a path that does not exist), 'dataset' (the
   * config against the dataset as discovered: machine types, bank sizes) or 'model' (the embedder: names, depth).
   */
  source: 'json' | 'schema' | 'file' | 'dataset' | 'model';
  /**
   * Which check, for code that acts on it: 'parse' (a JSON syntax error, as every JSON editor reports it),
   * 'unknown-key', 'bank-too-small', 'layer-out-of-range', 'unknown-machine-type', 'missing-path', … .
   */
  code?: string;
  /** A fix the editor can offer as a quick fix, where the fix is clear. */
  fix?: ConfigFix;
}

/**
 * One edit that fixes a diagnostic: set the value at `pointer` (creating the key, and objects above it, when absent),
 * rename the key at `pointer` to `renameKeyTo`, or create the folder `createFolder` (absolute).
 */
export interface ConfigFix {
  /** The quick fix's title as the editor shows it, e.g. "Set K_s to 40". */
  title: string;
  pointer?: string;
  value?: string | number | boolean;
  renameKeyTo?: string;
  createFolder?: string;
}

export interface ValidateConfigResult {
  file: string;
  /** False when any diagnostic is an error (warnings alone leave it runnable). */
  valid: boolean;
  diagnostics: ConfigDiagnostic[];
}

export interface RunParams extends WorkDoneProgressParams {
  /** A `*.genrep.json` run config (saved: the worker reads the file). */
  configFile: string;
}

export interface RunOutcome {
  name: string;
  resultsFile: string;
  outputDir: string;
  reportFile: string;
  /** The main variant's summary over machine types (null in a scoring-only run). */
  overall: Metrics | null;
  machineTypes: string[];
  cache: { hits: number; extracted: number };
  totalSec: number;
}

export interface ResultsParams {
  /** A results.json written by `genrep run` or `genrep/run`. */
  file: string;
}

export interface ResultsResult {
  file: string;
  results: RunResults;
}

// ─── Memory banks and scoring new clips ───────────────────────────────────────────────────────────────────────────

export interface BuildBankParams extends WorkDoneProgressParams {
  /** Dataset root; the bank holds the machine type's training clips. */
  root: string;
  layout?: LayoutName;
  machineType: string;
  embedder: EmbedderConfig;
  layer: number;
  pooling: Pooling;
  /** K_n of the kNN distance stored with the bank. */
  K_n: number;
  /** MemMixup of the target bank (null = off). */
  mixup: MemMixup | null;
  /** The .grbank file to write. */
  out: string;
  /** Only this section's training clips (default: every section of the machine type). */
  section?: string;
}

export interface BuildBankResult {
  file: string;
  rows: { source: number; target: number };
  header: BankFileHeader;
}

/**
 * genrep/explainClip: a clip against a saved bank (`bankFile`), or a clip of a run (`resultsFile`: its bank rebuilt
 * from the feature cache, at the run's chosen layer of the clip's machine type, in `variant` or the first variant).
 * `neighbours`: how many nearest rows to name (default K_n, at least 1).
 */
export interface ExplainClipParams extends WorkDoneProgressParams {
  clip: string;
  bankFile?: string;
  dn?: DnMode;
  resultsFile?: string;
  variant?: string;
  neighbours?: number;
  /**
   * With `bankFile`: the embedder the bank was built with (a BEATs bank needs its checkpoint; fbank-stats banks need
   * none), refused when its id differs from the bank's.
   */
  embedder?: EmbedderConfig;
  /** With `bankFile`: the dataset root the bank's row names are relative to, so neighbours get playable paths. */
  datasetRoot?: string;
}

/** genrep/compareRuns: two or more results.json; the first (A) is compared with each other one. */
export interface CompareRunsParams {
  files: string[];
}

export interface ScoreFilesParams extends WorkDoneProgressParams {
  bankFile: string;
  /** WAV files to score (anything else is refused with the file named). */
  files: string[];
  /** Domain normalisation with the bank's own statistics (inductive) or raw distances (none). */
  dn: 'inductive' | 'none';
  /**
   * The embedder the user has selected (default 'fbank-stats'): a bank built with another embedder is refused
   * (BAD_INPUT, field 'embedder', expected = the bank's embedder id) instead of scoring in another feature space.
   */
  embedder?: EmbedderConfig;
  /**
   * Dataset roots to work out each file's machine type from (resolveClips); files outside them are resolved from
   * their folder and DCASE file names.
   */
  datasetRoots?: string[];
  /**
   * Score files whose machine type differs from the one the bank records. Without it such a selection is refused
   * (BAD_INPUT, field 'allowOtherMachineType', naming both types); files of unknown type are never refused.
   */
  allowOtherMachineType?: boolean;
}

export interface ScoredFile {
  path: string;
  score: number;
  d_source: number | null;
  d_target: number | null;
  /** 1 = anomaly by the bank's decision threshold. */
  decision: 0 | 1;
}

export interface ScoreFilesResult {
  bankFile: string;
  bank: BankFileHeader;
  threshold: number;
  files: ScoredFile[];
  /**
   * Leave-one-out anomaly scores of the bank's own training clips (finite ones, training row order): the distribution the
   * threshold is a quantile of, which the panel draws behind the scored clips. Absent from older workers.
   */
  trainScores?: number[];
}

export interface ListBanksParams {
  /** Folders to look in (not recursive); a folder that does not exist holds no banks. */
  dirs: string[];
}

export interface BankListing {
  file: string;
  header: BankFileHeader;
}

export interface ListBanksResult {
  banks: BankListing[];
  /** Files that look like banks but cannot be read, and folders that do not exist. */
  problems: { path: string; message: string }[];
}

/** How resolveClips worked out a file's machine type. */
export type ClipResolutionKind =
  /** Inside a dataset root, at `<root>/<type>/{train,test}/…` (or `<root>/{train,test}/…` for a one-type root). */
  | 'dataset'
  /** Outside every root: the folder above train/ or test/ and the DCASE file-name rules. */
  | 'file-name'
  /** The roots (or a symbolic link's two paths) name different machine types: see `candidates`. */
  | 'ambiguous'
  /** Nothing says which machine type it is. */
  | 'unknown';

export interface ResolvedClip {
  /** The file as given, made absolute. */
  path: string;
  how: ClipResolutionKind;
  /** The dataset root the file lies in ('dataset'), else null. */
  root: string | null;
  /** null for 'ambiguous' and 'unknown'. */
  machineType: string | null;
  /** DCASE section or machine ID, "00" in the generic layout; null where nothing says. */
  section: string | null;
  domain: Domain | null;
  split: 'train' | 'test' | null;
  /** One sentence saying how it was resolved (for logs and pickers). */
  reason: string;
  /** For 'ambiguous': each root and the machine type it gives. */
  candidates?: { root: string; machineType: string }[];
}

export interface ResolveClipsParams {
  files: string[];
  /** Dataset roots (the genrep.datasetRoots setting and the workspace's run configs' roots). */
  roots: string[];
}

export interface ResolveClipsResult {
  /** One per file, in the order given. */
  clips: ResolvedClip[];
}

// ─── Clips: spectrogram and playable audio for the results panel ──────────────────────────────────────────────────

export interface SpectrogramParams {
  file: string;
  /** Frames are averaged down to at most this many (default 600), to keep the message small. */
  maxFrames?: number;
}

export interface SpectrogramResult {
  file: string;
  /** Rows of `data` (time) and columns (mel bins, low to high). */
  frames: number;
  bins: number;
  /** Time between rows of `data`, after downsampling. */
  frameShiftMs: number;
  durationSec: number;
  /** Base64 of little-endian float32, row-major [frames × bins]: Kaldi log-mel fbank (BEATs' 128 bins, 25/10 ms). */
  data: string;
  min: number;
  max: number;
}

export interface ClipAudioParams {
  file: string;
  /** Longer clips are cut (default 30 s). */
  maxSeconds?: number;
}

export interface ClipAudioResult {
  file: string;
  /** Base64 of a 16-bit PCM mono WAV at the clip's own rate, playable by any browser whatever the source format. */
  wav: string;
  sampleRate: number;
  durationSec: number;
  truncated: boolean;
}

// ─── Models ───────────────────────────────────────────────────────────────────────────────────────────────────────

export interface ListModelsParams {
  /** Default: the worker's model directory. */
  modelDir?: string;
}

export interface ModelListing {
  name: string;
  file: string;
  role: string;
  bestLayer: number;
  /** Whether the checkpoint is in modelDir. */
  present: boolean;
  path: string;
}

export interface ListModelsResult {
  modelDir: string;
  models: ModelListing[];
}

export interface DownloadCheckpointParams extends WorkDoneProgressParams {
  /** A name from models/manifest.json ('beats', 'beats_ft1', …). */
  name: string;
  /** Default: the worker's model directory. */
  dir?: string;
}

export interface DownloadCheckpointResult {
  path: string;
  size: number;
  sha256: string;
  status: 'downloaded' | 'resumed' | 'present';
  recorded: boolean;
}

// ─── Notifications from the worker ────────────────────────────────────────────────────────────────────────────────

export interface JobInfo {
  /** Job number, increasing within one worker process. */
  id: number;
  method: WorkerMethod;
  title: string;
}

/** Sent whenever a job starts or ends, so the status bar can say what the worker is doing. */
export interface WorkerStatus {
  state: 'idle' | 'busy';
  /** The running job first, then queued ones. */
  jobs: JobInfo[];
}

/** LSP's window/logMessage: 1 error, 2 warning, 3 info, 4 log. */
export interface LogMessageParams {
  type: 1 | 2 | 3 | 4;
  message: string;
}

// ─── The method tables ────────────────────────────────────────────────────────────────────────────────────────────

/** Every request the extension sends to the worker: method name → params and result. */
export interface WorkerRequests {
  'genrep/listDatasets': { params: ListDatasetsParams; result: ListDatasetsResult };
  'genrep/validateConfig': { params: ValidateConfigParams; result: ValidateConfigResult };
  'genrep/run': { params: RunParams; result: RunOutcome };
  'genrep/results': { params: ResultsParams; result: ResultsResult };
  'genrep/buildBank': { params: BuildBankParams; result: BuildBankResult };
  'genrep/scoreFiles': { params: ScoreFilesParams; result: ScoreFilesResult };
  'genrep/listBanks': { params: ListBanksParams; result: ListBanksResult };
  'genrep/resolveClips': { params: ResolveClipsParams; result: ResolveClipsResult };
  'genrep/explainClip': { params: ExplainClipParams; result: ExplainResult };
  'genrep/compareRuns': { params: CompareRunsParams; result: CompareResult };
  'genrep/spectrogram': { params: SpectrogramParams; result: SpectrogramResult };
  'genrep/clipAudio': { params: ClipAudioParams; result: ClipAudioResult };
  'genrep/listModels': { params: ListModelsParams; result: ListModelsResult };
  'genrep/downloadCheckpoint': { params: DownloadCheckpointParams; result: DownloadCheckpointResult };
}

/** Every notification the worker sends (besides `$/progress`). */
export interface WorkerNotifications {
  'genrep/status': WorkerStatus;
  'window/logMessage': LogMessageParams;
}

export type WorkerMethod = keyof WorkerRequests;
export type ParamsOf<M extends WorkerMethod> = WorkerRequests[M]['params'];
export type ResultOf<M extends WorkerMethod> = WorkerRequests[M]['result'];

export interface MethodInfo {
  /** A job: runs one at a time, takes a workDoneToken, reports progress, can be cancelled between clips. */
  job: boolean;
  /** One line for the protocol's documentation and schema. */
  summary: string;
}

/** The same methods at run time (the compiler checks that keys match WorkerRequests exactly). */
export const WORKER_REQUESTS = {
  'genrep/listDatasets': {
    job: false,
    summary: 'Discover the clips under dataset roots (machine type → split → domain → clip).',
  },
  'genrep/validateConfig': {
    job: false,
    summary:
      'Check a run config against schemas/run-config.schema.json and the dataset as discovered (the checks genrep run makes before extracting); diagnostics with ranges and fixes.',
  },
  'genrep/run': {
    job: true,
    summary: 'Run an experiment from a run config; writes results.json, report.html and submission files.',
  },
  'genrep/results': { job: false, summary: 'Read a results.json.' },
  'genrep/buildBank': {
    job: true,
    summary: "Build one machine type's memory bank at one layer from a dataset and save it as a .grbank file.",
  },
  'genrep/scoreFiles': { job: true, summary: 'Score WAV files against a saved memory bank.' },
  'genrep/listBanks': { job: false, summary: 'List the .grbank files in folders, with their headers.' },
  'genrep/resolveClips': {
    job: false,
    summary: "Work out each WAV file's dataset root, machine type, section, domain and split, and how.",
  },
  'genrep/explainClip': {
    job: true,
    summary:
      'Why a clip scored as it did: its kNN distance split over time × frequency bands, and its nearest normal clips.',
  },
  'genrep/compareRuns': {
    job: false,
    summary:
      'Compare two or more results.json (the first with each other): metric deltas, per-clip scores, changed decisions, config differences.',
  },
  'genrep/spectrogram': { job: false, summary: "A clip's log-mel fbank, downsampled, for display." },
  'genrep/clipAudio': { job: false, summary: 'A clip as 16-bit PCM WAV bytes, for playback.' },
  'genrep/listModels': { job: false, summary: 'The known BEATs checkpoints and whether each is present.' },
  'genrep/downloadCheckpoint': {
    job: true,
    summary: 'Download a known BEATs checkpoint (resumable, sha256 recorded).',
  },
} as const satisfies Record<WorkerMethod, MethodInfo>;

export const WORKER_NOTIFICATIONS = [
  'genrep/status',
  'window/logMessage',
] as const satisfies readonly (keyof WorkerNotifications)[];

/** The run config type, re-exported so protocol users need not reach into worker/src/config. */
export type { RunConfig };
