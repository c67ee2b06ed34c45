import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { FAULT_MODES, type FaultMode, MACHINE_MODELS, synthesizeDataset } from '../../synth';
import { withInterrupt } from '../interrupt';
import { lazyProgressBar } from '../progressBar';

function integerOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function numberOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function listOption(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `--clips 100,10,20` = train-source, train-target, test-per-group. */
function clipsOption(value: string): [number, number, number] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new InvalidArgumentError(
      'expected three integers: train-source,train-target,test-per-group (e.g. 100,10,20)',
    );
  }
  return parts as [number, number, number];
}

interface SynthCliOptions {
  out: string;
  seed: number;
  machines?: string[];
  clips?: [number, number, number];
  trainSource?: number;
  trainTarget?: number;
  testPerGroup?: number;
  duration: number;
  sampleRate: number;
  severity: number;
  faults: FaultMode;
}

function faultsOption(value: string): FaultMode {
  const mode = FAULT_MODES.find((m) => m === value);
  if (mode === undefined) throw new InvalidArgumentError(`expected one of ${FAULT_MODES.join(', ')}`);
  return mode;
}

/** `genrep synth`: write a synthetic DCASE 2023-layout dataset (docs/synth.md). */
export function registerSynthCommand(program: Command): Command {
  return program
    .command('synth')
    .description('write a synthetic DCASE 2023-layout dataset of machine sounds built from known physics (resumable)')
    .requiredOption('--out <dir>', 'output folder (new, empty, or an interrupted run with the same settings)')
    .option('--seed <n>', 'random seed; the same seed gives the same bytes', integerOption, 0)
    .option(
      '--machines <list>',
      `comma-separated machine types (default all: ${MACHINE_MODELS.map((m) => m.name).join(',')})`,
      listOption,
    )
    .option('--clips <s,t,n>', 'shorthand for --train-source s --train-target t --test-per-group n', clipsOption)
    .option('--train-source <n>', 'source-domain normal training clips per machine type (default 990)', integerOption)
    .option('--train-target <n>', 'target-domain normal training clips per machine type (default 10)', integerOption)
    .option('--test-per-group <n>', 'test clips per group: source/target × normal/anomaly (default 50)', integerOption)
    .option('--duration <s>', 'clip length in seconds', numberOption, 10)
    .option('--sample-rate <hz>', 'sample rate', integerOption, 16000)
    .option('--severity <x>', 'fault size multiplier (1 = nominal, smaller = subtler anomalies)', numberOption, 1)
    .option(
      '--faults <mode>',
      "anomalous clips' faults: machine (each machine's own) or localised (a knock, rub or burst in a known time span and band, recorded in <machine>/localised_faults.json)",
      faultsOption,
      'machine',
    )
    .action(async (opts: SynthCliOptions) => {
      const bar = lazyProgressBar('synth [{bar}] {value}/{total} files | {machine} | ETA {eta_formatted}');
      const started = Date.now();
      const result = await withInterrupt((signal) =>
        synthesizeDataset({
          out: opts.out,
          seed: opts.seed,
          machines: opts.machines,
          trainSource: opts.trainSource ?? opts.clips?.[0],
          trainTarget: opts.trainTarget ?? opts.clips?.[1],
          testPerGroup: opts.testPerGroup ?? opts.clips?.[2],
          durationSec: opts.duration,
          sampleRate: opts.sampleRate,
          severity: opts.severity,
          faults: opts.faults,
          signal,
          onProgress: (p) => bar.update(p, { machine: p.machine }),
        }),
      ).finally(() => bar.stop());
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `${opts.out}: ${result.files} files for ${result.machines.join(', ')} (${result.written} written, ${result.kept} already present) in ${seconds} s\n`,
      );
    });
}
