/**
 * `npm run bench:startup`: where the start-up of a BEATs job goes, for the full-size graph (official configuration,
 * seeded random weights, layers 1-12 temporal-pooled) and a tiny one: the checkpoint's sha256 (the cache key; timed
 * on the converted graph, of the same size as the 344 MiB checkpoint), creating the onnxruntime session, its first
 * run (one clip) against a steady-state run; and the same session created from onnxruntime's own optimised graph
 * (`optimizedModelFilePath`, written once at level 'all', in ONNX and in ORT format, then loaded with optimisation
 * disabled), with whether its features are byte-identical. Each open is a fresh session; openings alternate so a
 * neighbour's load on a shared machine hits every variant alike. Options: --repeats N (default 5), --no-full.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as ConfigModule from '../worker/src/beats/config';
import type * as ConvertModule from '../worker/src/beats/convert';
import type * as ModelCacheModule from '../worker/src/beats/modelCache';
import type * as RandomModule from '../worker/src/beats/randomWeights';
import type * as RuntimeModule from '../worker/src/onnx/runtime';
import { builtWorker } from './builtWorker';

const load = builtWorker;
const { BEATS_OFFICIAL } = load<typeof ConfigModule>('beats/config');
const { convertBeats } = load<typeof ConvertModule>('beats/convert');
const { sha256File } = load<typeof ModelCacheModule>('beats/modelCache');
const { randomBeatsWeights } = load<typeof RandomModule>('beats/randomWeights');
const { openSession, ort } = load<typeof RuntimeModule>('onnx/runtime');

const at = process.argv.indexOf('--repeats');
const REPEATS = at >= 0 ? Number(process.argv[at + 1]) : 5;
const FULL = !process.argv.includes('--no-full');
const TINY = {
  ...BEATS_OFFICIAL,
  encoder_layers: 2,
  encoder_embed_dim: 64,
  encoder_ffn_embed_dim: 128,
  encoder_attention_heads: 4,
};
const THREADS = 2;

interface Opened {
  create: number;
  first: number;
  second: number;
  bytes: Buffer;
}

/** Seconds to create the session, to run one clip first and again, and the first output's bytes. */
async function timeOpen(
  create: () => Promise<RuntimeModule.ort.InferenceSession>,
  input: Float32Array,
): Promise<Opened> {
  const started = performance.now();
  const session = await create();
  const created = performance.now();
  try {
    const feed = { fbank: new ort.Tensor('float32', input, [1, 998, 128]) };
    const out = await session.run(feed);
    const ran = performance.now();
    await session.run(feed);
    const first = out[session.outputNames[0]!]!.data as Float32Array;
    return {
      create: (created - started) / 1000,
      first: (ran - created) / 1000,
      second: (performance.now() - ran) / 1000,
      bytes: Buffer.from(first.buffer, first.byteOffset, first.byteLength),
    };
  } finally {
    await session.release();
  }
}

/** The product's CPU options (threads, no spinning, level 'all') as openSession sets them, plus `extra`. */
async function plainSession(model: string): Promise<RuntimeModule.ort.InferenceSession> {
  return (await openSession(model, { threads: THREADS, device: 'cpu' })).session;
}

function cpuOptions(level: 'all' | 'disabled', extra: Record<string, string> = {}) {
  return {
    graphOptimizationLevel: level,
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    executionProviders: ['cpu'],
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' }, ...extra } },
    logSeverityLevel: 4 as const,
  };
}

const seconds = (xs: number[]) => `${Math.min(...xs).toFixed(2)} s`;

async function measure(name: string, cfg: typeof BEATS_OFFICIAL, dir: string): Promise<void> {
  const weights = { file: 'random.pt', cfg: { ...cfg }, tensors: randomBeatsWeights(cfg, 1) };
  const layers = Array.from({ length: cfg.encoder_layers }, (_, k) => k + 1);
  const model = path.join(dir, `${name}.onnx`);
  writeFileSync(model, Buffer.concat(convertBeats(weights, { layers, output: 'temporal' }).parts));
  let state = 7;
  const input = Float32Array.from(
    { length: 998 * 128 },
    () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2,
  );
  const hashes: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t = performance.now();
    await sha256File(model);
    hashes.push((performance.now() - t) / 1000);
  }
  // onnxruntime writes its optimised graph while creating a session; the ORT format is chosen by the key below.
  const optOnnx = path.join(dir, `${name}.opt.onnx`);
  const optOrt = path.join(dir, `${name}.opt.ort`);
  const writeOnnx = await timeOpen(
    () => ort.InferenceSession.create(model, { ...cpuOptions('all'), optimizedModelFilePath: optOnnx }),
    input,
  );
  await timeOpen(
    () =>
      ort.InferenceSession.create(model, {
        ...cpuOptions('all', { save_model_format: 'ORT' }),
        optimizedModelFilePath: optOrt,
      }),
    input,
  );
  const variants: Array<{ label: string; create: () => Promise<RuntimeModule.ort.InferenceSession>; runs: Opened[] }> =
    [
      { label: 'converted graph, optimised at every open (today)', create: () => plainSession(model), runs: [] },
      {
        label: 'cached optimised graph, ONNX format',
        create: () => ort.InferenceSession.create(optOnnx, cpuOptions('disabled')),
        runs: [],
      },
      {
        label: 'cached optimised graph, ORT format',
        create: () => ort.InferenceSession.create(optOrt, cpuOptions('disabled')),
        runs: [],
      },
    ];
  for (let r = 0; r < REPEATS; r++) for (const v of variants) v.runs.push(await timeOpen(v.create, input));
  const mib = (file: string) => `${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`;
  console.log(`\n${name}: converted graph ${mib(model)}; sha256 of it ${seconds(hashes)} (best of ${REPEATS})`);
  console.log(
    `  writing the optimised graph (ONNX, ${mib(optOnnx)}; ORT format ${mib(optOrt)}): first open ` +
      `${writeOnnx.create.toFixed(2)} s`,
  );
  console.log('  best of', REPEATS, 'fresh sessions: create | first clip | second clip | features vs today');
  const reference = variants[0]!.runs[0]!.bytes;
  for (const v of variants) {
    const same = v.runs.every((o) => o.bytes.equals(reference)) ? 'byte-identical' : 'DIFFERENT';
    console.log(
      `  ${v.label.padEnd(50)} ${seconds(v.runs.map((o) => o.create))} | ${seconds(v.runs.map((o) => o.first))} | ` +
        `${seconds(v.runs.map((o) => o.second))} | ${same}`,
    );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-startup-'));
  try {
    console.log(
      `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}, ${THREADS} intra-op threads, CPU`,
    );
    await measure('tiny', TINY, dir);
    if (FULL) await measure('full', BEATS_OFFICIAL, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
