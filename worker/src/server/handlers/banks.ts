import { readWavInfo } from '../../audio';
import { buildBankFromDataset, listBanks as listBankFiles, scoreFilesWithBank } from '../../experiments/banks';
import { resolveClips } from '../../datasets';
import { fileError, GenrepError } from '../../errors';
import type {
  BuildBankParams,
  BuildBankResult,
  ListBanksParams,
  ListBanksResult,
  ResolveClipsParams,
  ResolveClipsResult,
  ScoreFilesParams,
  ScoreFilesResult,
} from '../../protocol/workerProtocol';
import type { Settings } from '../../settings';
import type { JobContext } from '../jobs';

/** A line for the worker log (window/logMessage): 1 error, 2 warning, 3 info. */
export type JobLog = (type: 1 | 2 | 3, line: string) => void;

/**
 * Runs a bank job between a start line and a finish or failure line in the worker log, so that the log records
 * every bank built and every file scored (and the editor's notification is not the only trace).
 */
async function logged<T>(
  log: JobLog,
  job: JobContext,
  what: string,
  body: () => Promise<T>,
  finished: (result: T) => string,
): Promise<T> {
  const started = Date.now();
  log(3, `${what}: started`);
  try {
    const result = await body();
    log(3, `${what}: ${finished(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (job.signal.aborted) log(3, `${what}: cancelled`);
    else log(1, `${what}: failed: ${message}`);
    throw err;
  }
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** genrep/buildBank: one machine type's memory bank at one layer, written as a .grbank file. */
export async function buildBank(
  params: BuildBankParams,
  job: JobContext,
  settings: Settings,
  log: JobLog = () => undefined,
): Promise<BuildBankResult> {
  const section = params.section !== undefined ? ` section ${params.section}` : '';
  return logged(
    log,
    job,
    `building the ${params.machineType}${section} memory bank from ${params.root} (layer ${params.layer}) into ${params.out}`,
    () =>
      buildBankFromDataset({
        root: params.root,
        ...(params.layout ? { layout: params.layout } : {}),
        machineType: params.machineType,
        ...(params.section !== undefined ? { section: params.section } : {}),
        embedder: params.embedder,
        layer: params.layer,
        pooling: params.pooling,
        K_n: params.K_n,
        mixup: params.mixup,
        out: params.out,
        settings,
        signal: job.signal,
        onProgress: (p) => job.progress(p),
      }),
    (built) =>
      `saved, ${built.rows.source} source + ${built.rows.target} target clips, embedder ${built.header.embedder ?? '?'}` +
      (built.header.section !== undefined ? `, section ${built.header.section}` : ''),
  );
}

/**
 * genrep/scoreFiles. Every file is checked to be a readable WAV before any feature is extracted, so a wrong
 * selection fails at once with the file named, not halfway through the batch.
 */
export async function scoreFiles(
  params: ScoreFilesParams,
  job: JobContext,
  settings: Settings,
  log: JobLog = () => undefined,
): Promise<ScoreFilesResult> {
  return logged(
    log,
    job,
    `scoring ${plural(params.files.length, 'file')} against ${params.bankFile}`,
    () => scoreChecked(params, job, settings),
    (scored) => {
      const flagged = scored.files.filter((f) => f.decision === 1).length;
      return `${flagged} of ${scored.files.length} flagged as anomalous (threshold ${scored.threshold.toPrecision(4)})`;
    },
  );
}

async function scoreChecked(params: ScoreFilesParams, job: JobContext, settings: Settings): Promise<ScoreFilesResult> {
  if (params.files.length === 0) throw new GenrepError('no files selected to score', 'BAD_INPUT', { field: 'files' });
  for (const file of params.files) {
    if (!/\.wav$/i.test(file))
      throw fileError(file, 'is not a .wav file; GenRep scores WAV recordings only', 'BAD_INPUT', {
        expected: 'a .wav file',
      });
    await readWavInfo(file); // throws a GenrepError naming the file when it is missing or not a WAV inside
  }
  const scored = await scoreFilesWithBank({
    bankFile: params.bankFile,
    files: params.files,
    dn: params.dn,
    ...(params.embedder !== undefined ? { embedder: params.embedder } : {}),
    ...(params.datasetRoots !== undefined ? { datasetRoots: params.datasetRoots } : {}),
    ...(params.allowOtherMachineType !== undefined ? { allowOtherMachineType: params.allowOtherMachineType } : {}),
    settings,
    signal: job.signal,
    onProgress: (p) => job.progress(p),
  });
  return {
    bankFile: params.bankFile,
    bank: scored.bank,
    threshold: scored.threshold,
    files: scored.files,
    ...(scored.trainScores ? { trainScores: scored.trainScores } : {}),
  };
}

/** genrep/listBanks: the .grbank files in each folder (a missing folder has none); unreadable files are listed as problems. */
export async function listBanks(params: ListBanksParams): Promise<ListBanksResult> {
  const out: ListBanksResult = { banks: [], problems: [] };
  for (const dir of params.dirs) {
    for (const entry of await listBankFiles(dir)) {
      if (entry.header) out.banks.push({ file: entry.file, header: entry.header });
      else out.problems.push({ path: entry.file, message: entry.error ?? `${entry.file}: unreadable bank file` });
    }
  }
  return out;
}

/** genrep/resolveClips: each file's dataset root, machine type, section, domain and split (datasets/resolveClip.ts). */
export async function resolveClipFiles(params: ResolveClipsParams): Promise<ResolveClipsResult> {
  return { clips: await resolveClips(params.files, params.roots) };
}
