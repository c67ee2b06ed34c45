import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readWav } from '../audio/wavReader';
import { BEATS_SAMPLES, beatsFbank } from '../fbank';
import { GenrepError } from '../errors';
import type { DcaseMetrics } from '../metrics/dcase';
import { dcaseMetrics } from '../metrics/dcase';
import { openSession, ort } from '../onnx/runtime';
import type { Domain } from '../protocol/vocabulary';
import { clipKey, machineModel, planMachine, renderClip } from '../synth';
import type { SynthSizes } from '../synth';
import { FBANK_BINS, FBANK_FRAMES } from './config';
import type { BeatsWeights } from './convert';
import { convertBeatsToBytes } from './convert';
import { beatsOutputName } from './graph';

/** int8 against fp32 at one layer: pooled-feature cosine, worst clip and mean over clips. */
export interface LayerCosine {
  layer: number;
  min: number;
  mean: number;
}

/**
 * How far the int8 graph's temporal-pooled features are from the fp32 graph's, layer by layer, on the given fbank
 * inputs (one [998 × 128] matrix a clip). This is what docs/int8.md reports and what `--int8`'s help text quotes:
 * shared by the test (tiny model) and `npm run bench:int8` (full-size model) so both measure the same quantity.
 */
export async function int8LayerCosines(
  weights: BeatsWeights,
  fbanks: readonly Float32Array[],
  layers: readonly number[],
  threads = 1,
): Promise<LayerCosine[]> {
  const graph = { layers: [...layers], output: 'temporal' as const };
  const fp32 = await pooled(convertBeatsToBytes(weights, graph), fbanks, layers, threads);
  const int8 = await pooled(convertBeatsToBytes(weights, { ...graph, quantize: 'int8' }), fbanks, layers, threads);
  return layers.map((layer, l) => {
    const cosines = fbanks.map((_, c) => cosine(fp32[l]![c]!, int8[l]![c]!));
    return {
      layer,
      min: Math.min(...cosines),
      mean: cosines.reduce((a, b) => a + b, 0) / cosines.length,
    };
  });
}

/** DCASE metrics of one layer's features, fp32 and int8 graphs. */
export interface LayerScores {
  layer: number;
  fp32: DcaseMetrics;
  int8: DcaseMetrics;
}

/**
 * The AUC / official-score change int8 causes on one synthetic machine type (`genrep synth`'s generator, rendered
 * in memory), layer by layer. Scoring is the plainest GenRep setting so that the change is the features' alone:
 * Euclidean distance to the nearest training clip (K_n = 1, one bank of source and target clips, no DN, no
 * MemMixup); metrics as `genrep metrics` computes them (AUC, pAUC, source/target AUC, official score).
 */
export async function int8ScoreChange(
  weights: BeatsWeights,
  layers: readonly number[],
  synth: { machine: string; seed: number; sizes: SynthSizes },
  threads = 1,
): Promise<LayerScores[]> {
  const model = machineModel(synth.machine);
  if (!model) throw new GenrepError(`int8ScoreChange: no synthetic machine '${synth.machine}'`, 'BAD_INPUT');
  const plan = planMachine(model, synth.seed, synth.sizes, 1);
  const fbanks = plan.map(
    (clip) =>
      beatsFbank(
        renderClip({
          model,
          condition: clip.condition,
          anomaly: clip.anomaly,
          key: clipKey(synth.seed, model.name, clip.split, clip.domain, clip.label, clip.index),
          durationSec: 10,
          sampleRate: 16000,
        }),
      ).data,
  );
  const train = plan.flatMap((clip, i) => (clip.split === 'train' ? [i] : []));
  const test = plan.flatMap((clip, i) => (clip.split === 'test' ? [i] : []));
  const labels = test.map((i) => (plan[i]!.label === 'anomaly' ? 1 : 0));
  const domains: Domain[] = test.map((i) => plan[i]!.domain);
  const graph = { layers: [...layers], output: 'temporal' as const };
  const fp32 = await pooled(convertBeatsToBytes(weights, graph), fbanks, layers, threads);
  const int8 = await pooled(convertBeatsToBytes(weights, { ...graph, quantize: 'int8' }), fbanks, layers, threads);
  const metrics = (features: Float32Array[]) =>
    dcaseMetrics({
      scores: test.map((t) => Math.min(...train.map((r) => distance(features[t]!, features[r]!)))),
      labels,
      domains,
    });
  return layers.map((layer, l) => ({ layer, fp32: metrics(fp32[l]!), int8: metrics(int8[l]!) }));
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  // Two clips' pooled features at one layer: equal lengths.
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

/** Pooled features [layer][clip], one clip a run (batch 1, as the embedder runs). */
async function pooled(
  model: Uint8Array,
  fbanks: readonly Float32Array[],
  layers: readonly number[],
  threads: number,
): Promise<Float32Array[][]> {
  const { session } = await openSession(model, { threads, device: 'cpu' });
  try {
    const out: Float32Array[][] = layers.map(() => []);
    for (const fbank of fbanks) {
      const result = await session.run({
        fbank: new ort.Tensor('float32', fbank, [1, FBANK_FRAMES, FBANK_BINS]),
      });
      layers.forEach((layer, l) =>
        out[l]!.push(new Float32Array(result[beatsOutputName(layer, 'temporal')]!.data as Float32Array)),
      );
    }
    return out;
  } finally {
    await session.release();
  }
}

/**
 * The 11 real clips the project ships, as BEATs inputs: the DCASE 2023 fan clip and the 8 microphones of the MIMII
 * fan clip (test/fixtures/audio), and the two real DCASE 2023 clips of the fbank goldens (`fbank_in/real0`, 12 s,
 * cropped to 10 s; `real1`). `fixtures` is test/fixtures.
 */
export async function fixtureClipFbanks(fixtures: string): Promise<Float32Array[]> {
  const audio = path.join(fixtures, 'audio');
  const out = await realClipFbanks([
    path.join(audio, 'dcase2023_fan_test_section_00_source_test_anomaly_0022_m-n_W.wav'),
    path.join(audio, 'mimii_fab969_8ch.wav'),
  ]);
  for (const name of ['fbank_in__real0.f32', 'fbank_in__real1.f32']) {
    const bytes = await readFile(path.join(fixtures, 'golden-beats-tiny', name));
    // The goldens are little-endian float32, as is every host onnxruntime-node runs on.
    const wave = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    out.push(beatsFbank(wave.subarray(0, BEATS_SAMPLES)).data);
  }
  return out;
}

/**
 * Real clips as BEATs inputs: every channel of every file (a multi-channel recording gives one clip per
 * microphone), first 10 s, through the BEATs fbank.
 */
export async function realClipFbanks(files: readonly string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const file of files) {
    const first = await readWav(file);
    for (let channel = 0; channel < first.info.channels; channel++) {
      const audio = channel === 0 ? first : await readWav(file, { channel });
      out.push(beatsFbank(audio.samples.subarray(0, BEATS_SAMPLES)).data);
    }
  }
  return out;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  // a and b are one layer's pooled features of one clip from two graphs of the same model: equal lengths.
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}
