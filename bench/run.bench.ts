/**
 * `npm run bench:run`: `genrep run` on a DCASE-sized synthetic study, cold and warm cache, with where the time went
 * (`genrep run --profile`: seconds and clips/s per stage, peak RSS), and — where Debian's python3-torch is
 * installed — the same study through bench/run_torch.py, a straightforward PyTorch transcription of the reference
 * pipeline, on the same clips and weights, so the ratio is measured in one run (docs/performance.md).
 *
 * Defaults are the issue's study: 7 machine types × (990 source + 10 target training clips, 200 test clips) of
 * 10 s, full-size BEATs with seeded random weights, all 12 layers, K_n 1, K_s 990, transductive DN. That is hours
 * on 2 cores; the options shrink it: --types N --train-source N --train-target N --test-per-group N --duration S
 * --model full|tiny --threads N --no-torch --keep DIR (keep the study folder; reusing one skips synth and the model).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RunProfile } from '../worker/src/cli/runProfile';
import type * as ConfigModule from '../worker/src/beats/config';
import type { RunResults } from '../worker/src/protocol/results';
import { builtWorker } from './builtWorker';
import { writeStudyModel } from './torchWeights';

const { values: opts } = parseArgs({
  options: {
    types: { type: 'string', default: '7' },
    'train-source': { type: 'string', default: '990' },
    'train-target': { type: 'string', default: '10' },
    'test-per-group': { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    model: { type: 'string', default: 'full' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'no-torch': { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});
const count = (name: keyof typeof opts): number => {
  const n = Number(opts[name]);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--${name}: expected a positive number, got '${String(opts[name])}'`);
  return n;
};
const TYPES = count('types');
const TRAIN_SOURCE = count('train-source');
const TRAIN_TARGET = count('train-target');
const TEST_PER_GROUP = count('test-per-group');
const DURATION = count('duration');
const THREADS = count('threads');
const K_S = Math.min(990, TRAIN_SOURCE);
// genrep synth draws five kinds of machine; types beyond five are the same kinds drawn with another seed.
const SYNTH_KINDS = ['fan', 'pump', 'gearbox', 'bearing', 'motor'];
const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'worker', 'bin', 'genrep.js');
const TORCH_SCRIPT = path.join(ROOT, 'bench', 'run_torch.py');

interface Timed {
  wallSec: number;
}

function run(command: string, args: string[], quiet = true): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve({ wallSec: (performance.now() - started) / 1000 });
      else reject(new Error(`${path.basename(command)} ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}

/** The study's clips: five synthetic kinds per seed, the folders of later seeds renamed `<kind>2`, `<kind>3`, …. */
async function writeStudy(data: string): Promise<string[]> {
  const types: string[] = [];
  for (let batch = 0; types.length < TYPES; batch++) {
    const kinds = SYNTH_KINDS.slice(0, Math.min(SYNTH_KINDS.length, TYPES - types.length));
    const out = path.join(data, `.synth-${batch}`);
    const clips = `${TRAIN_SOURCE},${TRAIN_TARGET},${TEST_PER_GROUP}`;
    const args = [
      'synth',
      '--out',
      out,
      '--machines',
      kinds.join(','),
      '--clips',
      clips,
      '--duration',
      String(DURATION),
    ];
    await run(process.execPath, [CLI, ...args, '--seed', String(batch + 1)]);
    for (const kind of kinds) {
      const name = batch === 0 ? kind : `${kind}${batch + 1}`;
      renameSync(path.join(out, kind), path.join(data, name));
      types.push(name);
    }
    rmSync(out, { recursive: true, force: true });
  }
  return types;
}

/**
 * A Python that has Debian's torch, torchaudio and sklearn: $GENREP_BENCH_PYTHON, else `python3` on the PATH, else
 * /usr/bin/python3 (where apt installs them, when a pyenv or venv python3 comes first on the PATH).
 */
function torchPython(): string | undefined {
  const candidates = [process.env['GENREP_BENCH_PYTHON'], 'python3', '/usr/bin/python3'];
  for (const python of candidates) {
    if (!python) continue;
    try {
      execFileSync(python, ['-c', 'import torch, torchaudio, sklearn'], { stdio: 'ignore' });
      return python;
    } catch {
      // not this one
    }
  }
  return undefined;
}

interface TorchSummary {
  metrics: Record<string, Record<string, { auc: number; pauc: number; official: number | null }>>;
  timings: Record<'decodeSec' | 'fbankSec' | 'encoderSec' | 'scoringSec' | 'writeSec' | 'totalSec', number>;
  clips: number;
  threads: number;
  peakRssBytes: number;
  torch: string;
}

const f1 = (x: number) => x.toFixed(1);
const rate = (clips: number, sec: number) => (sec > 0 && clips > 0 ? (clips / sec).toFixed(1) : '—');
/** A stage that handled no clip (the warm run's extraction) shows a dash, not "0.0 s". */
const secs = (clips: number, sec: number) => (clips > 0 ? f1(sec) : '—');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function stageRows(profile: RunProfile, clips: number): [string, number, number][] {
  const e = profile.extraction;
  const sec = (...stages: (keyof RunProfile['extraction'])[]) => stages.reduce((s, k) => s + (e[k]?.seconds ?? 0), 0);
  const run = profile.run!;
  return [
    ['hash + cache lookup', sec('lookup'), e.lookup?.clips ?? 0],
    ['read + decode', sec('read', 'decode'), e.decode?.clips ?? 0],
    ['fbank', sec('frontEnd'), e.frontEnd?.clips ?? 0],
    ['encoder (+ pooling, copies)', sec('encoder', 'embedOther'), e.encoder?.clips ?? 0],
    ['cache write', sec('cacheWrite'), e.cacheWrite?.clips ?? 0],
    ['scoring', run.scoreSec, clips],
    ['writing', run.writeSec, clips],
  ];
}

async function main(): Promise<void> {
  const { BEATS_OFFICIAL } = builtWorker<typeof ConfigModule>('beats/config');
  const dir = opts.keep ?? mkdtempSync(path.join(tmpdir(), 'genrep-bench-run-'));
  mkdirSync(dir, { recursive: true });
  try {
    const data = path.join(dir, 'data');
    let types: string[];
    if (existsSync(data)) {
      types = JSON.parse(readFileSync(path.join(dir, 'types.json'), 'utf8')) as string[];
    } else {
      const t = performance.now();
      mkdirSync(data);
      types = await writeStudy(data);
      writeFileSync(path.join(dir, 'types.json'), JSON.stringify(types));
      console.log(`study written in ${f1((performance.now() - t) / 1000)} s: ${data}`);
    }
    const cfg =
      opts.model === 'tiny'
        ? // The official architecture shrunk as bench:startup's tiny model: for trying the bench in minutes.
          {
            ...BEATS_OFFICIAL,
            encoder_layers: 2,
            encoder_embed_dim: 64,
            encoder_ffn_embed_dim: 128,
            encoder_attention_heads: 4,
          }
        : { ...BEATS_OFFICIAL };
    if (opts.model !== 'tiny' && opts.model !== 'full') throw new Error(`--model: full or tiny, got ${opts.model}`);
    const modelDir = path.join(dir, `model-${opts.model}`);
    const model = existsSync(path.join(modelDir, 'beats.onnx'))
      ? { onnx: path.join(modelDir, 'beats.onnx'), weights: path.join(modelDir, 'weights') }
      : writeStudyModel(modelDir, cfg, 7);
    const clips = types.length * (TRAIN_SOURCE + TRAIN_TARGET + 4 * TEST_PER_GROUP);
    const config = path.join(dir, `run-${opts.model}.genrep.json`);
    const cacheDir = path.join(dir, `cache-${opts.model}`);
    rmSync(cacheDir, { recursive: true, force: true });
    writeFileSync(
      config,
      JSON.stringify({
        name: `bench-run-${opts.model}`,
        dataset: { root: data, layout: 'dcase2023' },
        embedder: model.onnx,
        layers: 'all',
        K_n: 1,
        mixup: { K_s: K_S, lambda: 0.9 },
        dn: 'transductive',
        threads: THREADS,
        cacheDir,
        output: path.join(dir, `out-${opts.model}`),
      }),
    );
    console.log(
      `\n${types.length} machine types (${types.join(', ')}) × ${TRAIN_SOURCE} + ${TRAIN_TARGET} training and ` +
        `${4 * TEST_PER_GROUP} test clips of ${DURATION} s = ${clips} clips; BEATs ${opts.model} ` +
        `(${cfg.encoder_layers} layers, random weights, seed 7), all layers, K_n 1, K_s ${K_S}, DN transductive, ` +
        `${THREADS} threads, ${availableParallelism()} cores`,
    );

    const profiles: Record<'cold' | 'warm', RunProfile & Timed> = {} as never;
    for (const pass of ['cold', 'warm'] as const) {
      const file = path.join(dir, `profile-${opts.model}-${pass}.json`);
      const timed = await run(process.execPath, [CLI, 'run', config, '--quiet', '--profile', file]);
      profiles[pass] = { ...(JSON.parse(readFileSync(file, 'utf8')) as RunProfile), ...timed };
    }
    const results = JSON.parse(readFileSync(path.join(dir, `out-${opts.model}`, 'results.json'), 'utf8')) as RunResults;

    let torch: (TorchSummary & Timed) | undefined;
    const python = opts['no-torch'] ? undefined : torchPython();
    if (python) {
      const out = path.join(dir, `torch-${opts.model}`);
      const args = [TORCH_SCRIPT, '--data', data, '--weights', model.weights, '--layers', 'all', '--K_n', '1'];
      args.push('--K_s', String(K_S), '--lambda', '0.9', '--dn', 'on', '--threads', String(THREADS), '--out', out);
      const timed = await run(python, args);
      torch = { ...(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as TorchSummary), ...timed };
    } else {
      console.log(opts['no-torch'] ? '(--no-torch)' : '(python3-torch not installed: no PyTorch comparison)');
    }
    report(profiles, clips, torch, results);
  } finally {
    if (opts.keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

function report(
  profiles: Record<'cold' | 'warm', RunProfile & Timed>,
  clips: number,
  torch: (TorchSummary & Timed) | undefined,
  results: RunResults,
): void {
  const cold = stageRows(profiles.cold, clips);
  const warm = stageRows(profiles.warm, clips);
  const t = torch?.timings;
  const torchStage: Record<string, number | undefined> = {
    'read + decode': t?.decodeSec,
    fbank: t?.fbankSec,
    'encoder (+ pooling, copies)': t?.encoderSec,
    scoring: t?.scoringSec,
    writing: t?.writeSec,
  };
  console.log(
    '\nstage                          cold s   clips/s   warm s   clips/s   PyTorch s   clips/s   PyTorch ÷ cold',
  );
  cold.forEach(([label, sec, n], i) => {
    const [, wsec, wn] = warm[i]!;
    const ts = torchStage[label];
    const cells = [
      label.padEnd(28),
      secs(n, sec).padStart(8),
      rate(n, sec).padStart(9),
      secs(wn, wsec).padStart(8),
      rate(wn, wsec).padStart(9),
      ts === undefined ? '—'.padStart(11) : f1(ts).padStart(11),
      ts === undefined ? '—'.padStart(9) : rate(clips, ts).padStart(9),
      ts === undefined || sec === 0 ? '' : `${(ts / sec).toFixed(2)}×`.padStart(16),
    ];
    console.log(cells.join(' '));
  });
  const total = (p: RunProfile & Timed) => p.wallSec;
  console.log(
    `${'whole command (wall)'.padEnd(28)} ${f1(total(profiles.cold)).padStart(8)} ${rate(clips, total(profiles.cold)).padStart(9)} ` +
      `${f1(total(profiles.warm)).padStart(8)} ${rate(clips, total(profiles.warm)).padStart(9)} ` +
      (torch
        ? `${f1(torch.wallSec).padStart(11)} ${rate(clips, torch.wallSec).padStart(9)} ${`${(torch.wallSec / total(profiles.cold)).toFixed(2)}×`.padStart(16)}`
        : ''),
  );
  console.log(
    `peak RSS: genrep cold ${mib(profiles.cold.peakRssBytes)}, warm ${mib(profiles.warm.peakRssBytes)}` +
      (torch ? `, PyTorch ${mib(torch.peakRssBytes)} (torch ${torch.torch}, ${torch.threads} threads)` : ''),
  );
  if (torch) compareMetrics(results, torch);
}

/** Both pipelines scored the same features the same way: their AUCs per machine type and layer should agree. */
function compareMetrics(results: RunResults, torch: TorchSummary): void {
  const [variant] = results.variants;
  if (!variant) return;
  let worst = 0;
  let cells = 0;
  for (const machine of variant.machines) {
    for (const { layer, metrics } of machine.layers) {
      const theirs = torch.metrics[machine.machineType]?.[String(layer)];
      if (!metrics || !theirs) continue;
      worst = Math.max(worst, Math.abs(metrics.auc - theirs.auc), Math.abs(metrics.pauc - theirs.pauc));
      cells++;
    }
  }
  console.log(
    `AUC / pAUC, genrep vs PyTorch, ${cells} (machine type, layer) cells: largest difference ${worst.toFixed(4)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
