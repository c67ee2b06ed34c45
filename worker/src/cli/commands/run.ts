import type { Command } from 'commander';
import { loadRunConfig } from '../../config/loadConfig';
import { runExperiment } from '../../experiments/run';
import { formatResultsTable } from '../../report/table';
import { resolveSettings } from '../../settings';
import { withInterrupt } from '../interrupt';
import { runProgressReporter } from '../progressBar';
import { explainTopAnomalies } from '../../explain/reportTop';

/** `genrep run <config.json>`: one experiment from a run config (schemas/run-config.schema.json). */
export function registerRunCommand(program: Command): void {
  program
    .command('run <config>')
    .description(
      'run an experiment from a JSON run config: features (cached), kNN scoring, results.json, DCASE submission files, report.html',
    )
    .option('--quiet', 'print only the results table')
    .action(async (file: string, opts: { quiet?: boolean }) => {
      const loaded = await loadRunConfig(file);
      const settings = resolveSettings({ runConfig: loaded.config, env: process.env });
      const bar = runProgressReporter();
      try {
        const outcome = await withInterrupt((signal) =>
          runExperiment(loaded, settings, {
            signal,
            onProgress: opts.quiet ? () => undefined : bar.onProgress,
            log: opts.quiet ? () => undefined : (line) => process.stderr.write(`${line}\n`),
            explainTop: explainTopAnomalies,
          }),
        );
        bar.stop();
        process.stdout.write(`\n${formatResultsTable(outcome.results)}`);
        const t = outcome.results.timings;
        process.stdout.write(
          `features: ${outcome.results.cache.hits} from cache, ${outcome.results.cache.extracted} extracted · ` +
            `time: ${t.totalSec.toFixed(1)} s (extract ${t.extractSec.toFixed(1)} s, score ${t.scoreSec.toFixed(1)} s)\n` +
            `results: ${outcome.resultsFile}\nreport:  ${outcome.reportFile}\n`,
        );
      } finally {
        bar.stop();
      }
    });
}
