import type { Command } from 'commander';
import { Option } from 'commander';
import { POOLINGS, type Pooling } from '../../embedders';
import { buildBankFromDataset } from '../../experiments/banks';
import { GenrepError } from '../../errors';
import { PAPER_DEFAULTS } from '../../protocol/vocabulary';
import { resolveSettings } from '../../settings';
import { withInterrupt } from '../interrupt';
import { runProgressReporter } from '../progressBar';
import { parsePositiveInt } from '../parse';

interface BankBuildFlags {
  root: string;
  machineType: string;
  out: string;
  section?: string;
  layout: 'auto' | 'dcase2023' | 'dcase2020' | 'generic';
  embedder: string;
  layer?: number;
  pooling: Pooling;
  kn: number;
  ks: number;
  lambda: string;
  modelDir?: string;
  cacheDir?: string;
  threads?: number;
  quiet?: boolean;
}

function parseLambda(text: string): number {
  const lambda = Number(text);
  if (text.trim() === '' || !(lambda >= 0 && lambda <= 1)) {
    throw new GenrepError(`--lambda '${text}': expected a number in [0, 1]`, 'BAD_INPUT', { field: 'lambda' });
  }
  return lambda;
}

/**
 * `genrep bank build`: one machine type's memory bank from a dataset's training clips, as the editor's "Build
 * Memory Bank" makes it (the header records the machine type, and the section when there is one).
 */
export function registerBankCommand(program: Command): void {
  const bank = program.command('bank').description('memory banks (.grbank) for scoring new recordings later');
  bank
    .command('build')
    .description("build one machine type's memory bank from its training clips and save it as a .grbank file")
    .requiredOption('--root <dir>', 'dataset root (one folder per machine type, each with train/)')
    .requiredOption('--machine-type <type>', 'the machine type whose training clips form the bank')
    .requiredOption('--out <file.grbank>', 'the bank file to write')
    .option('--section <id>', "only this section's training clips (default: every section)")
    .addOption(
      new Option('--layout <layout>', 'dataset layout')
        .choices(['auto', 'dcase2023', 'dcase2020', 'generic'])
        .default('auto'),
    )
    .option('--embedder <model>', 'fbank-stats, a model name, a .pt checkpoint or an .onnx model', 'fbank-stats')
    .option(
      '--layer <k>',
      `layer whose features form the bank (default ${PAPER_DEFAULTS.fbankStatsLayer} for fbank-stats, ${PAPER_DEFAULTS.beatsLayer} otherwise)`,
      parsePositiveInt('--layer'),
    )
    .addOption(new Option('--pooling <pooling>', 'pooling').choices(POOLINGS).default(PAPER_DEFAULTS.pooling))
    .option(
      '--kn <n>',
      `K_n stored with the bank (default ${PAPER_DEFAULTS.K_n})`,
      parsePositiveInt('--kn'),
      PAPER_DEFAULTS.K_n,
    )
    .option(
      '--ks <n>',
      `MemMixup K_s, capped at the source clips; 0 turns MemMixup off (default ${PAPER_DEFAULTS.mixup.K_s})`,
      (t: string) => (t.trim() === '0' ? 0 : parsePositiveInt('--ks')(t)),
      PAPER_DEFAULTS.mixup.K_s,
    )
    .option('--lambda <l>', 'MemMixup λ', String(PAPER_DEFAULTS.mixup.lambda))
    .option('--model-dir <dir>', 'where named checkpoints are')
    .option('--cache-dir <dir>', 'feature and converted-model cache')
    .option('--threads <n>', 'ONNX Runtime threads', parsePositiveInt('--threads'))
    .option('--quiet', 'print only the saved file')
    .action(async (flags: BankBuildFlags) => {
      const settings = resolveSettings({
        runConfig: { modelDir: flags.modelDir, cacheDir: flags.cacheDir, threads: flags.threads },
        env: process.env,
      });
      const lambda = parseLambda(flags.lambda);
      const layer =
        flags.layer ?? (flags.embedder === 'fbank-stats' ? PAPER_DEFAULTS.fbankStatsLayer : PAPER_DEFAULTS.beatsLayer);
      const bar = runProgressReporter();
      try {
        const built = await withInterrupt((signal) =>
          buildBankFromDataset({
            root: flags.root,
            layout: flags.layout,
            machineType: flags.machineType,
            ...(flags.section !== undefined ? { section: flags.section } : {}),
            embedder: flags.embedder,
            layer,
            pooling: flags.pooling,
            K_n: flags.kn,
            mixup: flags.ks > 0 ? { K_s: flags.ks, lambda } : null,
            capKs: true,
            out: flags.out,
            settings,
            signal,
            onProgress: flags.quiet ? () => undefined : bar.onProgress,
          }),
        );
        bar.stop();
        const section = built.header.section !== undefined ? `, section ${built.header.section}` : '';
        process.stdout.write(
          flags.quiet
            ? `${built.file}\n`
            : `${built.file}: ${flags.machineType}${section}, ${built.rows.source} source + ${built.rows.target} target clips, ` +
                `${built.header.embedder ?? '?'} layer ${layer}\n`,
        );
      } finally {
        bar.stop();
      }
    });
}
