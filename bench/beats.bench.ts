/**
 * `npm run bench:beats`: seconds per 10 s clip for the full-size BEATs graph (official configuration, seeded random
 * weights: the real checkpoints cannot ship with the project) in onnxruntime-node on the CPU, all 12 layers
 * temporal-pooled as GenRep uses them, at batch 1 and 4 with 1 and 2 intra-op threads; conversion time; peak RSS;
 * and the dynamic int8 variant's speed and feature cosine against fp32.
 * Options: --clips N (clips timed per setting, default 8), --threads 1,2, --batches 1,4, --no-int8.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as ConfigModule from '../worker/src/beats/config';
import type * as ConvertModule from '../worker/src/beats/convert';
import type * as RandomModule from '../worker/src/beats/randomWeights';
import type * as FbankModule from '../worker/src/fbank';
import type * as RuntimeModule from '../worker/src/onnx/runtime';
import { builtWorker } from './builtWorker';

const load = builtWorker;
const { BEATS_OFFICIAL } = load<typeof ConfigModule>('beats/config');
const { convertBeats } = load<typeof ConvertModule>('beats/convert');
const { randomBeatsWeights } = load<typeof RandomModule>('beats/randomWeights');
const { beatsFbank } = load<typeof FbankModule>('fbank');
const { openSession, ort } = load<typeof RuntimeModule>('onnx/runtime');

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const list = (text: string) => text.split(',').map(Number);

const CLIPS = Number(argument('--clips', '8'));
const THREADS = list(argument('--threads', '1,2'));
const BATCHES = list(argument('--batches', '1,4'));
const INT8 = !process.argv.includes('--no-int8');
const LAYERS = Array.from({ length: 12 }, (_, i) => i + 1);
const FBANK = 998 * 128;

/** Seeded clips (tones + noise) through the real fbank, so the graph sees realistic input statistics. */
function clipFbanks(count: number): Float32Array {
  let state = 12345;
  const rand = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 4294967296;
  };
  const out = new Float32Array(count * FBANK);
  for (let c = 0; c < count; c++) {
    const f = 100 + 3000 * rand();
    const wave = Float32Array.from(
      { length: 160000 },
      (_, t) => 0.3 * Math.sin((2 * Math.PI * f * t) / 16000) + 0.05 * (2 * rand() - 1),
    );
    out.set(beatsFbank(wave).data, c * FBANK);
  }
  return out;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** Mean and best seconds per clip; on a shared machine the best run is the steadier figure. */
async function timeSession(
  file: string,
  threads: number,
  batch: number,
  inputs: Float32Array,
): Promise<{ mean: number; best: number }> {
  const { session } = await openSession(file, { threads, device: 'cpu' });
  try {
    const feed = { fbank: new ort.Tensor('float32', inputs.subarray(0, batch * FBANK), [batch, 998, 128]) };
    await session.run(feed); // warm-up: first run allocates and plans
    const runs = Math.max(2, Math.round(CLIPS / batch));
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      await session.run(feed);
      times.push((performance.now() - started) / 1000 / batch);
    }
    return { mean: times.reduce((a, b) => a + b, 0) / runs, best: Math.min(...times) };
  } finally {
    await session.release();
  }
}

async function features(file: string, inputs: Float32Array, count: number): Promise<Float32Array[]> {
  const { session } = await openSession(file, { threads: 2, device: 'cpu' });
  try {
    const out = await session.run({
      fbank: new ort.Tensor('float32', inputs.subarray(0, count * FBANK), [count, 998, 128]),
    });
    return LAYERS.map((l) => new Float32Array(out[`layer${l}_temporal`]!.data as Float32Array));
  } finally {
    await session.release();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-bench-beats-'));
  try {
    console.log(
      `BEATs full size (12 × 768, 90.3 M parameters, random weights), layers 1-12 temporal-pooled; ${CLIPS} clips per setting`,
    );
    let t = performance.now();
    const tensors = randomBeatsWeights(BEATS_OFFICIAL, 1);
    const weights = { file: 'random.pt', cfg: { ...BEATS_OFFICIAL }, tensors };
    console.log(`random weights: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const variants: Array<{ name: string; file: string }> = [];
    for (const quantize of INT8 ? ([undefined, 'int8'] as const) : ([undefined] as const)) {
      t = performance.now();
      const { parts } = convertBeats(weights, {
        layers: LAYERS,
        output: 'temporal',
        ...(quantize ? { quantize } : {}),
      });
      const file = path.join(dir, `beats-${quantize ?? 'fp32'}.onnx`);
      writeFileSync(file, Buffer.concat(parts));
      const size = parts.reduce((n, p) => n + p.length, 0);
      console.log(`convert ${quantize ?? 'fp32'}: ${((performance.now() - t) / 1000).toFixed(1)} s, ${mib(size)}`);
      variants.push({ name: quantize ?? 'fp32', file });
    }
    const inputs = clipFbanks(Math.max(...BATCHES));
    console.log(`peak RSS after conversion: ${mib(peakRss())}`);
    console.log('\nvariant  threads  batch  s/clip (mean)  s/clip (best)  clips/s (mean)');
    for (const variant of variants) {
      for (const threads of THREADS) {
        for (const batch of BATCHES) {
          const { mean, best } = await timeSession(variant.file, threads, batch, inputs);
          console.log(
            `${variant.name.padEnd(7)}  ${String(threads).padStart(7)}  ${String(batch).padStart(5)}  ${mean.toFixed(3).padStart(13)}  ${best.toFixed(3).padStart(13)}  ${(1 / mean).toFixed(2).padStart(14)}`,
          );
        }
      }
    }
    console.log(`\npeak RSS: ${mib(peakRss())}`);
    if (INT8) {
      const count = Math.min(4, Math.max(...BATCHES));
      const fp32 = await features(variants[0]!.file, inputs, count);
      const int8 = await features(variants[1]!.file, inputs, count);
      const dim = 8 * 768;
      const cosines = LAYERS.map((_, i) =>
        Math.min(
          ...Array.from({ length: count }, (_, c) =>
            cosine(fp32[i]!.subarray(c * dim, (c + 1) * dim), int8[i]!.subarray(c * dim, (c + 1) * dim)),
          ),
        ),
      );
      console.log(
        `int8 vs fp32 feature cosine, worst clip per layer 1..12: ${cosines.map((c) => c.toFixed(5)).join(' ')}`,
      );
    }
    console.log(
      '\nreference (same 2-core class of machine): PyTorch 1.37 s/clip (1 thread); torch.onnx export in onnxruntime-node 1.47 s (1 thread) / 0.79 s (2 threads); arithmetic bound ≈ 0.62 s on 2 AVX2 cores',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
