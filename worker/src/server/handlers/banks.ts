import { readWavInfo } from '../../audio';
import { buildBankFromDataset, listBanks as listBankFiles, scoreFilesWithBank } from '../../experiments/banks';
import { fileError, GenrepError } from '../../errors';
import type {
  BuildBankParams,
  BuildBankResult,
  ListBanksParams,
  ListBanksResult,
  ScoreFilesParams,
  ScoreFilesResult,
} from '../../protocol/workerProtocol';
import type { Settings } from '../../settings';
import type { JobContext } from '../jobs';

/** genrep/buildBank: one machine type's memory bank at one layer, written as a .grbank file. */
export async function buildBank(
  params: BuildBankParams,
  job: JobContext,
  settings: Settings,
): Promise<BuildBankResult> {
  return buildBankFromDataset({
    root: params.root,
    ...(params.layout ? { layout: params.layout } : {}),
    machineType: params.machineType,
    embedder: params.embedder,
    layer: params.layer,
    pooling: params.pooling,
    K_n: params.K_n,
    mixup: params.mixup,
    out: params.out,
    settings,
    signal: job.signal,
    onProgress: (p) => job.progress(p),
  });
}

/**
 * genrep/scoreFiles. Every file is checked to be a readable WAV before any feature is extracted, so a wrong
 * selection fails at once with the file named, not halfway through the batch.
 */
export async function scoreFiles(
  params: ScoreFilesParams,
  job: JobContext,
  settings: Settings,
): Promise<ScoreFilesResult> {
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
    settings,
    signal: job.signal,
    onProgress: (p) => job.progress(p),
  });
  return { bankFile: params.bankFile, bank: scored.bank, threshold: scored.threshold, files: scored.files };
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
