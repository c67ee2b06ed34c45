import type { Command } from 'commander';
import { Option } from 'commander';
import { scoreFilesWithBank } from '../../experiments/banks';
import { resolveSettings } from '../../settings';
import { withInterrupt } from '../interrupt';
import { writeJsonResult } from '../jsonOutput';
import { runProgressReporter } from '../progressBar';
import { parsePositiveInt } from '../parse';

interface ScoreFlags {
  bank: string;
  embedder: string;
  dn: 'inductive' | 'none';
  datasetRoot?: string[];
  allowOtherMachineType?: boolean;
  json?: boolean;
  out?: string;
  modelDir?: string;
  cacheDir?: string;
  threads?: number;
}

/**
 * `genrep score`: WAV files against a saved bank, as the editor's "Score Selected WAV Files" does. A file whose
 * machine type (its dataset root's folder, or the folder above train/ or test/) differs from the bank's is refused
 * unless --allow-other-machine-type says so.
 */
export function registerScoreCommand(program: Command): void {
  program
    .command('score <wav...>')
    .description('score WAV files against a memory bank built with `genrep bank build`')
    .requiredOption('--bank <file.grbank>', 'the memory bank')
    .option('--embedder <model>', 'the embedder the bank was built with', 'fbank-stats')
    .addOption(
      new Option('--dn <mode>', "domain normalisation with the bank's statistics, or raw distances")
        .choices(['inductive', 'none'])
        .default('inductive'),
    )
    .option('--dataset-root <dir...>', "dataset roots that say each file's machine type")
    .option('--allow-other-machine-type', "score files whose machine type differs from the bank's")
    .option('--json', 'print the result as one JSON line')
    .option('--out <file.json>', 'with --json: write it to this file instead')
    .option('--model-dir <dir>', 'where named checkpoints are')
    .option('--cache-dir <dir>', 'feature and converted-model cache')
    .option('--threads <n>', 'ONNX Runtime threads', parsePositiveInt('--threads'))
    .action(async (wavs: string[], flags: ScoreFlags) => {
      const settings = resolveSettings({
        runConfig: { modelDir: flags.modelDir, cacheDir: flags.cacheDir, threads: flags.threads },
        env: process.env,
      });
      const bar = runProgressReporter();
      try {
        const scored = await withInterrupt((signal) =>
          scoreFilesWithBank({
            bankFile: flags.bank,
            files: wavs,
            dn: flags.dn,
            embedder: flags.embedder,
            ...(flags.datasetRoot ? { datasetRoots: flags.datasetRoot } : {}),
            ...(flags.allowOtherMachineType ? { allowOtherMachineType: true } : {}),
            settings,
            signal,
            onProgress: flags.json ? () => undefined : bar.onProgress,
          }),
        );
        bar.stop();
        if (flags.json) {
          await writeJsonResult({ bankFile: flags.bank, ...scored }, flags.out);
          return;
        }
        const type = scored.bank.machineType !== undefined ? ` (${scored.bank.machineType})` : '';
        const lines = scored.files.map(
          (f) => `${f.score.toPrecision(6)}\t${f.decision === 1 ? 'anomaly' : 'normal'}\t${f.path}`,
        );
        process.stdout.write(
          `bank: ${flags.bank}${type}, threshold ${scored.threshold.toPrecision(6)}\nscore\tdecision\tfile\n${lines.join('\n')}\n`,
        );
      } finally {
        bar.stop();
      }
    });
}
