import type { Command } from 'commander';
import { Option } from 'commander';
import { GenrepError } from '../../errors';
import { explainClipWithBank } from '../../explain/explainClip';
import { explainClipOfRun } from '../../explain/explainRun';
import { explainSummary } from '../../explain/summary';
import { writeFileAtomic } from '../../io/atomicWrite';
import type { DnMode } from '../../protocol/vocabulary';
import { resolveSettings } from '../../settings';
import { withInterrupt } from '../interrupt';
import { parsePositiveInt } from '../parse';

interface ExplainFlags {
  bank?: string;
  results?: string;
  clip?: string;
  variant?: string;
  embedder?: string;
  dn?: DnMode;
  datasetRoot?: string;
  neighbours?: number;
  out?: string;
  modelDir?: string;
  cacheDir?: string;
  threads?: number;
}

/**
 * `genrep explain`: why a clip scored as it did (docs/explain.md) — against a saved bank (`--bank B clip.wav`) or
 * as a run scored it (`--results results.json --clip NAME`). Writes the ExplainResult JSON (atomically) and prints
 * a short summary.
 */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain [wav]')
    .description("split a clip's anomaly score over time × frequency and name its nearest normal clips")
    .option('--bank <file.grbank>', 'explain the WAV file against this memory bank')
    .option('--results <results.json>', "explain a clip of this run's test set")
    .option('--clip <name>', 'with --results: the test clip (file name or path as results.json lists it)')
    .option('--variant <name>', 'with --results: the variant (default: the first)')
    .option('--embedder <model>', 'with --bank: the embedder the bank was built with (default: fbank-stats banks)')
    .addOption(new Option('--dn <mode>', 'with --bank: domain normalisation').choices(['inductive', 'none']))
    .option('--dataset-root <dir>', "with --bank: the root the bank's clip names are relative to")
    .option('--neighbours <n>', 'how many nearest rows to name (default K_n)', parsePositiveInt('--neighbours'))
    .option('--out <file.json>', 'where to write the explanation', 'explain.json')
    .option('--model-dir <dir>', 'where named checkpoints are')
    .option('--cache-dir <dir>', 'feature and converted-model cache')
    .option('--threads <n>', 'ONNX Runtime threads', parsePositiveInt('--threads'))
    .action(async (wav: string | undefined, flags: ExplainFlags) => {
      const settings = resolveSettings({
        runConfig: { modelDir: flags.modelDir, cacheDir: flags.cacheDir, threads: flags.threads },
        env: process.env,
      });
      const neighbours = flags.neighbours !== undefined ? { neighbours: flags.neighbours } : {};
      const result = await withInterrupt((signal) => {
        if (flags.bank !== undefined) {
          if (wav === undefined) throw new GenrepError('explain --bank: name the WAV file to explain', 'BAD_INPUT');
          return explainClipWithBank({
            bankFile: flags.bank,
            clip: wav,
            ...(flags.dn ? { dn: flags.dn } : {}),
            ...(flags.embedder !== undefined ? { embedder: flags.embedder } : {}),
            ...(flags.datasetRoot !== undefined ? { datasetRoot: flags.datasetRoot } : {}),
            ...neighbours,
            settings,
            signal,
          });
        }
        if (flags.results !== undefined) {
          const clip = flags.clip ?? wav;
          if (clip === undefined) throw new GenrepError('explain --results: name the clip with --clip', 'BAD_INPUT');
          return explainClipOfRun({
            resultsFile: flags.results,
            clip,
            ...(flags.variant !== undefined ? { variant: flags.variant } : {}),
            ...neighbours,
            settings,
            signal,
          });
        }
        throw new GenrepError(
          'explain: give --bank B.grbank clip.wav, or --results results.json --clip NAME',
          'BAD_INPUT',
        );
      });
      const out = flags.out ?? 'explain.json';
      await writeFileAtomic(out, JSON.stringify(result) + '\n');
      process.stdout.write(`${explainSummary(result)}\nwritten: ${out}\n`);
    });
}
