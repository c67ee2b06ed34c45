import type { Command } from 'commander';
import { DEMO_SIZES, runDemo } from '../../experiments/demo';
import { formatResultsTable } from '../../report/table';
import { withInterrupt } from '../interrupt';
import { lazyProgressBar, runProgressReporter } from '../progressBar';
import { explainTopAnomalies } from '../../explain/reportTop';

/** `genrep demo`: the README's main command. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      `synthesise a small machine-sound dataset (${DEMO_SIZES.machines.length} machine types) and run GenRep on it with the built-in fbank-stats embedder, with and without DN and MemMixup`,
    )
    .option('--dir <dir>', 'where the demo dataset, config, cache and results go', 'genrep-demo')
    .option('--seed <n>', 'synthetic dataset seed', (v) => Number(v), 1)
    .action(async (opts: { dir: string; seed: number }) => {
      const t0 = performance.now();
      const synthBar = lazyProgressBar('synth    [{bar}] {value}/{total} clips | ETA {eta_formatted}', {
        hideCursor: true,
      });
      const bar = runProgressReporter();
      try {
        process.stderr.write(`synthesising the demo dataset in ${opts.dir}/data …\n`);
        const outcome = await withInterrupt((signal) =>
          runDemo({
            dir: opts.dir,
            seed: opts.seed,
            env: process.env,
            signal,
            onSynthProgress: (p) => synthBar.update(p),
            onProgress: (p) => {
              synthBar.stop();
              bar.onProgress(p);
            },
            log: (line) => process.stderr.write(`${line}\n`),
            explainTop: explainTopAnomalies,
          }),
        );
        bar.stop();
        process.stdout.write(`\n${formatResultsTable(outcome.results)}`);
        const t = outcome.results.timings;
        process.stdout.write(
          `time: ${((performance.now() - t0) / 1000).toFixed(1)} s in all (synthesis ${outcome.synthSec.toFixed(1)} s, features ${t.extractSec.toFixed(1)} s — ` +
            `${outcome.results.cache.extracted} extracted, ${outcome.results.cache.hits} from cache —, scoring ${t.scoreSec.toFixed(1)} s)\n` +
            `config:  ${outcome.configFile}\nresults: ${outcome.resultsFile}\nreport:  ${outcome.reportFile}\n`,
        );
      } finally {
        synthBar.stop();
        bar.stop();
      }
    });
}
