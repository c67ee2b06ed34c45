/**
 * `npm run bench:synth`: how fast `genrep synth` writes a dataset, and whether that dataset shows the domain-shift
 * effect of GenRep's ablation (target-domain AUC with domain normalisation clearly above the AUC without it).
 *
 * 1. Generates a dataset into a temporary folder (single thread) and reports seconds, ms per clip and MiB.
 * 2. Reads it back (discoverDataset + readWav), embeds every clip with the built-in `fbank-stats` features
 *    (per-mel-bin temporal mean and std of the BEATs-normalised log-mel fbank, 256 dims), builds the source bank
 *    (source training clips) and the target bank (target training clips), and scores each test clip with K_n = 1
 *    Euclidean kNN: without DN min(d_s, d_t), with DN min of the z-scores (mean and population std over the machine's
 *    test clips). Prints AUC over all test clips, source AUC (source normals vs all anomalies) and target AUC
 *    (target normals vs all anomalies), without and with DN, per machine type.
 *
 * Options: --full (the default `genrep synth` size: 990 + 10 training, 50 per test group, all machine types; a few
 * minutes), otherwise the demo size (100 + 10, 20 per group, fan,pump,gearbox,bearing); --machines a,b;
 * --clips s,t,n; --seed N; --severity X; --keep DIR (write there and keep it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as AudioModule from '../worker/src/audio';
import type * as DatasetsModule from '../worker/src/datasets';
import type * as EmbeddersModule from '../worker/src/embedders/fbankStats';
import type * as MetricsModule from '../worker/src/metrics';
import type * as SynthModule from '../worker/src/synth';
import { builtWorker } from './builtWorker';

const { readWav } = builtWorker<typeof AudioModule>('audio');
const { discoverDataset } = builtWorker<typeof DatasetsModule>('datasets');
const { fbankStatistics } = builtWorker<typeof EmbeddersModule>('embedders/fbankStats');
const { rocAuc } = builtWorker<typeof MetricsModule>('metrics');
const { MACHINE_MODELS, synthesizeDataset } = builtWorker<typeof SynthModule>('synth');

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const full = args.includes('--full');
const clips = (flag('clips') ?? (full ? '990,10,50' : '100,10,20')).split(',').map(Number);
const machines = (
  flag('machines') ?? (full ? MACHINE_MODELS.map((m) => m.name).join(',') : 'fan,pump,gearbox,bearing')
).split(',');
const seed = Number(flag('seed') ?? 0);
const severity = Number(flag('severity') ?? 1);

interface Aucs {
  all: number;
  source: number;
  target: number;
}

function nearest(x: Float32Array, bank: Float32Array[]): number {
  let best = Infinity;
  for (const y of bank) {
    let d = 0;
    for (let i = 0; i < x.length; i++) d += (x[i]! - y[i]!) ** 2;
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}

function zscores(values: number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return values.map((v) => (v - mean) / std);
}

function aucs(scores: number[], labels: number[], domains: string[]): Aucs {
  const subset = (domain: string): Aucs['source'] => {
    const keep = labels.map((l, i) => (l === 1 || domains[i] === domain ? i : -1)).filter((i) => i >= 0);
    return rocAuc(
      keep.map((i) => scores[i]!),
      keep.map((i) => labels[i]!),
    );
  };
  return { all: rocAuc(scores, labels), source: subset('source'), target: subset('target') };
}

async function embed(file: string): Promise<Float32Array> {
  const { samples } = await readWav(file);
  return fbankStatistics(samples);
}

async function main(): Promise<void> {
  const keep = flag('keep');
  const out = keep ?? mkdtempSync(path.join(tmpdir(), 'genrep-synth-bench-'));
  try {
    const [trainSource, trainTarget, testPerGroup] = clips;
    const started = performance.now();
    const result = await synthesizeDataset({ out, seed, machines, trainSource, trainTarget, testPerGroup, severity });
    const seconds = (performance.now() - started) / 1000;
    const mib = (result.files * (44 + 2 * 160000)) / 2 ** 20;
    console.log(
      `synth: ${machines.join(',')} × (${trainSource} + ${trainTarget} train, ${testPerGroup} per test group), seed ${seed}, severity ${severity}`,
    );
    console.log(
      `generation: ${result.files} clips (${result.written} written) in ${seconds.toFixed(1)} s = ${((1000 * seconds) / Math.max(1, result.written)).toFixed(1)} ms/clip, ${mib.toFixed(0)} MiB; load average ${loadavg()[0]!.toFixed(2)}`,
    );

    const dataset = await discoverDataset({ root: out });
    const f = (x: number): string => x.toFixed(3);
    console.log('machine   | without DN: all  source target | with DN: all  source target | target gain');
    for (const machine of dataset.machines) {
      const source: Float32Array[] = [];
      const target: Float32Array[] = [];
      for (const clip of machine.train) (clip.domain === 'target' ? target : source).push(await embed(clip.path));
      const test = await Promise.all(machine.test.map((c) => embed(c.path)));
      const ds = test.map((x) => nearest(x, source));
      const dt = test.map((x) => nearest(x, target));
      const zs = zscores(ds);
      const zt = zscores(dt);
      const labels = machine.test.map((c) => (c.label === 'anomaly' ? 1 : 0));
      const domains = machine.test.map((c) => c.domain ?? '');
      const noDn = aucs(
        ds.map((d, i) => Math.min(d, dt[i]!)),
        labels,
        domains,
      );
      const dn = aucs(
        zs.map((z, i) => Math.min(z, zt[i]!)),
        labels,
        domains,
      );
      console.log(
        `${machine.machineType.padEnd(9)} |             ${f(noDn.all)}  ${f(noDn.source)}  ${f(noDn.target)} |          ${f(dn.all)}  ${f(dn.source)}  ${f(dn.target)} | ${(dn.target - noDn.target >= 0 ? '+' : '') + f(dn.target - noDn.target)}`,
      );
    }
  } finally {
    if (keep === undefined) rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
