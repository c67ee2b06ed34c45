/**
 * `npm run bench:score`: one DCASE-sized machine type scored end to end — 990 source + 10 target training clips,
 * MemMixup with K_s = 990 (λ = 0.9), K_n = 1, 200 test clips, 6144-dim features, 12 layers, transductive DN — on
 * seeded random features. Prints seconds and peak RSS, then runs the same arithmetic in NumPy (bench/score_numpy.py,
 * if /usr/bin/python3 has numpy) and checks both implementations agree on one layer's features.
 * Then a DCASE-sized grid scored cell by cell as `genrep run` scores it (experiments/scorePool.ts): 7 machine types ×
 * 12 layers, each cell 990 source + 10 target training rows and 200 test rows of 768-dim random features, K_s = 990,
 * K_n = 1, transductive DN; seconds with 1 scoring thread (in-process), 2, and every core, and a check that the
 * grids are bit-identical.
 * Options: --layers N (12), --dim D (6144), --threads T (ONNX Runtime intra-op threads, default 1),
 * --backend auto|onnxruntime|js (auto), --no-numpy, --no-grid, --grid-only, --grid-machines M (7).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Domain } from '../worker/src/protocol/vocabulary';
import type * as ScoringModule from '../worker/src/scoring';
import type * as NpyModule from '../worker/src/io/npy';
import type * as MetricsModule from '../worker/src/metrics';
import type * as PoolModule from '../worker/src/experiments/scorePool';
import type { CellResult, CellTask } from '../worker/src/experiments/scoreMachineLayer';
import { builtWorker } from './builtWorker';

const scoring = builtWorker<typeof ScoringModule>('scoring');
const { writeNpy } = builtWorker<typeof NpyModule>('io/npy');
const metrics = builtWorker<typeof MetricsModule>('metrics');
const pool = builtWorker<typeof PoolModule>('experiments/scorePool');

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Uniform [0, 1) float32 values from a seeded xorshift32, like the NumPy side's rng.random(dtype=float32). */
function randomMatrix(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 4294967296;
  }
  return out;
}

function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

interface NumpyReport {
  variant: string;
  seconds: number;
  cpu_seconds: number;
  peak_rss_mb: number;
  check?: { d_source: number[]; d_target: number[]; score: number[] };
}

function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-12));
  return m;
}

async function main(): Promise<void> {
  const layersCount = argument('--layers', 12);
  // layers[0] is read below: at least one layer.
  if (!(Number.isInteger(layersCount) && layersCount >= 1)) throw new Error('--layers must be a positive integer');
  const dim = argument('--dim', 6144);
  const threadsArg = argument('--threads', 0);
  const backendArg = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'auto';
  scoring.setGramBackend(backendArg as ScoringModule.GramBackendChoice, threadsArg > 0 ? { threads: threadsArg } : {});
  const nSource = 990;
  const nTarget = 10;
  const nTest = 200;
  const ks = 990;
  const kn = 1;
  const lambda = 0.9;
  const trainDomains: Domain[] = Array.from({ length: nSource + nTarget }, (_, i) =>
    i < nSource ? 'source' : 'target',
  );

  console.log(
    `bench:score — ${layersCount} layers × (${nSource} source + ${nTarget} target train, ${nTest} test) × ${dim} dims, K_s = ${ks}, K_n = ${kn}, λ = ${lambda}, transductive DN`,
  );
  const layers = Array.from({ length: layersCount }, (_, l) => ({
    train: randomMatrix((nSource + nTarget) * dim, 1000 + l),
    test: randomMatrix(nTest * dim, 2000 + l),
  }));
  const rssAfterData = process.resourceUsage().maxRSS;
  console.log(
    `features in memory: ${mb(rssAfterData)} peak RSS so far (the features alone are ${((layersCount * (nSource + nTarget + nTest) * dim * 4) / 2 ** 20).toFixed(0)} MB)`,
  );

  // Loading the native library and creating the session happens once per process, like NumPy's import (outside
  // its timer too); it is printed on its own line rather than hidden.
  const tLoad = process.hrtime.bigint();
  const backend = await scoring.gramBackend();
  console.log(
    `Gram backend: ${backend.description}; loaded in ${(Number(process.hrtime.bigint() - tLoad) / 1e9).toFixed(2)} s (once per process, not in the figures below)`,
  );

  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const result = await scoring.scoreLayers({
    layers,
    dim,
    trainDomains,
    kn,
    mixup: { K_s: ks, lambda },
    dnMode: 'transductive',
    index: 'exact',
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const peak = process.resourceUsage().maxRSS;
  console.log(
    `TypeScript: ${seconds.toFixed(2)} s for ${layersCount} layers (${(seconds / layersCount).toFixed(3)} s per layer, ${result.backend}),` +
      ` CPU ${cpuSeconds.toFixed(2)} s, peak RSS ${mb(peak)}`,
  );
  console.log(
    `  target bank ${nTarget + nTarget * ks} rows per layer, never materialised (materialised float64 it would be ${((nTarget * ks * dim * 8) / 2 ** 20).toFixed(0)} MB per layer)`,
  );

  // Layer 0's banks with exact search, built afresh for each Gram backend compared below.
  const layer0Banks = () =>
    scoring.buildBanks({ train: layers[0]!.train, dim, trainDomains, kn, mixup: { K_s: ks, lambda }, index: 'exact' });

  // Inductive DN costs a training × training Gram matrix on top (leave-one-out statistics).
  const t1 = process.hrtime.bigint();
  const banks0 = layer0Banks();
  await scoring.scoreMachine({ banks: banks0, test: layers[0]!.test, dnMode: 'inductive' });
  console.log(`inductive DN, one layer: ${(Number(process.hrtime.bigint() - t1) / 1e9).toFixed(2)} s`);
  const t2 = process.hrtime.bigint();
  const trans0 = await scoring.scoreMachine({ banks: banks0, test: layers[0]!.test, dnMode: 'transductive' });
  console.log(
    `transductive DN, one layer (banks already built): ${(Number(process.hrtime.bigint() - t2) / 1e9).toFixed(2)} s`,
  );
  if (maxRelError(result.layers[0]!.score, trans0.score) > 0)
    throw new Error('scoreLayers and scoreMachine disagree on layer 0');

  // The same layer on the other backend: speed of the fallback, and agreement of the two.
  const other = backend.name === 'js' ? 'onnxruntime' : 'js';
  scoring.setGramBackend(other, threadsArg > 0 ? { threads: threadsArg } : {});
  try {
    const banksOther = layer0Banks();
    const t3 = process.hrtime.bigint();
    const alt = await scoring.scoreMachine({ banks: banksOther, test: layers[0]!.test, dnMode: 'transductive' });
    console.log(
      `${other} backend, one layer: ${(Number(process.hrtime.bigint() - t3) / 1e9).toFixed(2)} s; difference to ${backend.name}:` +
        ` distances ${Math.max(maxRelError(alt.d_source!, trans0.d_source!), maxRelError(alt.d_target!, trans0.d_target!)).toExponential(1)} relative,` +
        ` scores (z-scores) ${maxAbsError(alt.score, trans0.score).toExponential(1)} absolute`,
    );
  } catch (err) {
    console.log(`${other} backend unavailable: ${(err as Error).message}`);
  }
  scoring.setGramBackend(backendArg as ScoringModule.GramBackendChoice, threadsArg > 0 ? { threads: threadsArg } : {});

  await goldenDnComparison();

  if (process.argv.includes('--no-numpy')) return;
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log('NumPy comparison skipped: /usr/bin/python3 with numpy not available');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-bench-score-'));
  try {
    await writeNpy(path.join(dir, 'train.npy'), layers[0]!.train, [nSource + nTarget, dim]);
    await writeNpy(path.join(dir, 'test.npy'), layers[0]!.test, [nTest, dim]);
    layers.length = 0; // free the features before NumPy allocates its own
    const script = path.join(__dirname, '..', '..', 'bench', 'score_numpy.py');
    // The expanded variant (same arithmetic as ours) right after our run, so both meet similar load on a shared machine.
    for (const variant of ['expanded', 'reference']) {
      const run = spawnSync(
        python,
        [script, '--variant', variant, '--layers', String(layersCount), '--dim', String(dim), '--check-dir', dir],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 2 ** 20,
        },
      );
      if (run.status !== 0) {
        console.log(`NumPy ${variant} failed: ${run.stderr.trim().split('\n').pop()}`);
        continue;
      }
      const rep = JSON.parse(run.stdout.trim().split('\n').pop()!) as NumpyReport;
      const err = rep.check ? maxRelError(trans0.score, rep.check.score) : NaN;
      const errD = rep.check
        ? Math.max(maxRelError(trans0.d_source!, rep.check.d_source), maxRelError(trans0.d_target!, rep.check.d_target))
        : NaN;
      console.log(
        `NumPy ${probe.stdout.trim()} ${variant.padEnd(9)}: ${rep.seconds.toFixed(2)} s, CPU ${rep.cpu_seconds.toFixed(2)} s, peak RSS ${rep.peak_rss_mb.toFixed(0)} MB` +
          ` (TypeScript ${seconds < rep.seconds ? 'faster' : 'slower'}: ×${(rep.seconds / seconds).toFixed(2)} wall, ×${(rep.cpu_seconds / cpuSeconds).toFixed(2)} CPU);` +
          ` same features, layer 0: max rel. error distances ${errD.toExponential(1)}, scores ${err.toExponential(1)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The three DN modes side by side on the golden-scoring fixture (random 48-dim features, so the numbers only show
 * the modes behave alike, not which is better on real machines).
 */
async function goldenDnComparison(): Promise<void> {
  const dir = path.join(__dirname, '..', '..', 'test', 'fixtures', 'golden-scoring');
  if (!existsSync(path.join(dir, 'manifest.json'))) return;
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    arrays: Record<string, { file: string; shape: number[] }>;
  };
  const f32 = (name: string) =>
    new Float32Array(new Uint8Array(readFileSync(path.join(dir, manifest.arrays[name]!.file))).buffer);
  const i32 = (name: string) =>
    new Int32Array(new Uint8Array(readFileSync(path.join(dir, manifest.arrays[name]!.file))).buffer);
  const dim = manifest.arrays['train']?.shape[1];
  if (dim === undefined) throw new Error(`${dir}/manifest.json: no 2-D 'train' array`);
  const train = f32('train');
  const test = f32('test');
  const labels = Array.from(i32('test_label'));
  const domains = Array.from(i32('test_domain'), (d) => (d === 0 ? 'source' : 'target'));
  const trainDomains = Array.from({ length: 1000 }, (_, i) => (i < 990 ? 'source' : 'target'));
  console.log('DN modes on the golden-scoring fixture (official score = hmean(AUC_s, AUC_t, pAUC)):');
  for (const ks of [0, 100, 990]) {
    for (const kn of [1, 3]) {
      const banks = scoring.buildBanks({ train, dim, trainDomains, kn, mixup: ks ? { K_s: ks, lambda: 0.9 } : null });
      const cells: string[] = [];
      for (const dnMode of ['transductive', 'inductive', 'none'] as const) {
        const m = metrics.dcaseMetrics({
          scores: (await scoring.scoreMachine({ banks, test, dnMode })).score,
          labels,
          domains,
        });
        cells.push(
          `${dnMode} ${m.official!.toFixed(4)} (s ${m.auc_source!.toFixed(3)} t ${m.auc_target!.toFixed(3)} p ${m.pauc.toFixed(3)})`,
        );
      }
      console.log(`  Ks${ks}_Kn${kn}: ${cells.join(' | ')}`);
    }
  }
}

/** The grid's cells, each with its own seeded features, generated only when the pool asks for the cell. */
function* gridJobs(machines: number, layers: number, dim: number): Generator<PoolModule.CellJob<string>> {
  const nSource = 990;
  const nTarget = 10;
  const nTest = 200;
  const trainDomains: Domain[] = Array.from({ length: nSource + nTarget }, (_, i) =>
    i < nSource ? 'source' : 'target',
  );
  const testClips = Array.from({ length: nTest }, (_, i) => ({
    label: i % 2 === 0 ? ('anomaly' as const) : ('normal' as const),
    domain: i % 4 < 2 ? ('source' as const) : ('target' as const),
  }));
  for (let m = 0; m < machines; m++) {
    for (let l = 0; l < layers; l++) {
      const task: CellTask = {
        ...{ machineType: `machine${m}`, layer: l + 1, dim, trainDomains, trainSections: undefined, testClips },
        train: randomMatrix((nSource + nTarget) * dim, 10_000 + 100 * m + l),
        test: randomMatrix(nTest * dim, 20_000 + 100 * m + l),
        ...{ dn: 'transductive', mixup: { K_s: 990, lambda: 0.9 }, K_n: 1, index: 'exact' },
      };
      const key = `machine${m} layer ${l + 1}`;
      // Each cell reads its own arrays: both move to the thread.
      yield { key, task, transfer: [task.train.buffer as ArrayBuffer, task.test.buffer as ArrayBuffer], name: key };
    }
  }
}

function cellBits(cell: CellResult): string {
  const hex = (a: Float64Array | null): string =>
    a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex') : '-';
  return (
    [hex(cell.score), hex(cell.d_source), hex(cell.d_target), hex(Float64Array.of(cell.threshold))].join('|') +
    JSON.stringify(cell.metrics)
  );
}

/** Scoring cells in parallel (docs/performance.md): the same grid with 1, 2 and every core's threads. */
async function parallelGrid(): Promise<void> {
  const machines = argument('--grid-machines', 7);
  const layers = 12;
  const dim = 768;
  const cells = machines * layers;
  const threadsArg = argument('--threads', 0);
  const backendArg = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'auto';
  scoring.setGramBackend(backendArg as ScoringModule.GramBackendChoice, threadsArg > 0 ? { threads: threadsArg } : {});
  const cores = availableParallelism();
  console.log(
    `scoring cells in parallel — ${machines} machine types × ${layers} layers = ${cells} cells, each 990 source + 10 target train and 200 test rows × ${dim} dims, K_s = 990, K_n = 1, transductive DN; ${cores} cores`,
  );
  let reference: Map<string, string> | undefined;
  let seconds1 = NaN;
  for (const size of [...new Set([1, 2, cores])]) {
    const grid = new Map<string, string>();
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    await pool.scoreCells(gridJobs(machines, layers, dim), {
      threads: size,
      total: cells,
      signal: undefined,
      onDone: (key, cell) => grid.set(key, cellBits(cell)),
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (size === 1) seconds1 = seconds;
    reference ??= grid;
    const same = grid.size === cells && [...reference].every(([key, bits]) => grid.get(key) === bits);
    console.log(
      `  ${size} scoring thread${size === 1 ? ' (in-process)' : 's'}: ${seconds.toFixed(1)} s (${(seconds / cells).toFixed(2)} s per cell, ×${(seconds1 / seconds).toFixed(2)} of 1 thread),` +
        ` CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, peak RSS ${mb(process.resourceUsage().maxRSS)}; grid ${same ? 'bit-identical to 1 thread' : 'DIFFERS from 1 thread'}`,
    );
    if (!same) throw new Error(`the grid scored on ${size} threads differs from the in-process grid`);
  }
}

async function all(): Promise<void> {
  if (!process.argv.includes('--grid-only')) await main();
  if (!process.argv.includes('--no-grid')) await parallelGrid();
}

all().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
