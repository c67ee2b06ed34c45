import type { Command } from 'commander';
import { compareResultFiles } from '../../compare/compareRuns';
import { compareSummary, renderCompareHtml } from '../../compare/compareHtml';
import { writeFileAtomic } from '../../io/atomicWrite';
import type { CompareResult } from '../../protocol/compare';

interface CompareOptions {
  out?: string;
}

export async function runCompare(files: string[], opts: CompareOptions): Promise<CompareResult> {
  const result = await compareResultFiles(files);
  if (opts.out !== undefined) await writeFileAtomic(opts.out, await renderCompareHtml(result));
  process.stdout.write(`${compareSummary(result)}\n${opts.out !== undefined ? `wrote ${opts.out}\n` : ''}`);
  return result;
}

/** `genrep compare`: two or more runs' results side by side (the first against each other one). */
export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare runs: metric deltas, ROC curves, per-clip scores, changed decisions, config differences')
    .argument('<results...>', 'two or more results.json; the first (A) is compared with each other one')
    .option('--out <compare.html>', 'write a self-contained HTML comparison here')
    .action(async (files: string[], opts: CompareOptions) => {
      await runCompare(files, opts);
    });
}
