import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import type * as ConfigModule from '../worker/src/beats/config';
import type * as ConvertModule from '../worker/src/beats/convert';
import type * as RandomModule from '../worker/src/beats/randomWeights';
import { builtWorker } from './builtWorker';

/** One tensor of `<dir>/weights/manifest.json`: its raw little-endian float32 file and shape. */
interface ManifestEntry {
  file: string;
  shape: number[];
}

/**
 * The study's random-weight BEATs in the two forms the whole-run benchmark compares (`npm run bench:run`):
 * `<dir>/beats.onnx`, the converted graph with every layer temporal-pooled as `genrep model convert --pooling
 * temporal` writes it (a run config names it as `"embedder": "<dir>/beats.onnx"`, kind 'beats-onnx'), and
 * `<dir>/weights/`, the same state dict for bench/run_torch.py (`--weights`): cfg.json, manifest.json
 * {"arrays": {key: {file, shape}}} and one raw little-endian float32 file per tensor. Both come from one
 * randomBeatsWeights(cfg, seed) draw, so the two pipelines run exactly the same model.
 */
export function writeStudyModel(
  dir: string,
  cfg: ConfigModule.BeatsConfig,
  seed: number,
): { onnx: string; weights: string } {
  const { convertBeats } = builtWorker<typeof ConvertModule>('beats/convert');
  const { randomBeatsWeights } = builtWorker<typeof RandomModule>('beats/randomWeights');
  const tensors = randomBeatsWeights(cfg, seed);
  const layers = Array.from({ length: cfg.encoder_layers }, (_, k) => k + 1);
  const { parts } = convertBeats(
    { file: `random-beats-seed${seed}.pt`, cfg: { ...cfg }, tensors },
    { layers, output: 'temporal' },
  );
  mkdirSync(dir, { recursive: true });
  const onnx = path.join(dir, 'beats.onnx');
  // Part by part: the full-size model is 344 MiB, and one concatenated copy would double the peak memory.
  const fd = openSync(onnx, 'w');
  try {
    for (const part of parts) writeSync(fd, part);
  } finally {
    closeSync(fd);
  }

  const weights = path.join(dir, 'weights');
  mkdirSync(weights, { recursive: true });
  const arrays: Record<string, ManifestEntry> = {};
  for (const [key, tensor] of tensors) {
    const file = `${key}.f32`;
    // Float32Array is little-endian on every platform Node runs on (x86-64, arm64).
    writeFileSync(
      path.join(weights, file),
      new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
    );
    arrays[key] = { file, shape: tensor.shape };
  }
  writeFileSync(path.join(weights, 'cfg.json'), `${JSON.stringify(cfg, null, 1)}\n`);
  writeFileSync(path.join(weights, 'manifest.json'), `${JSON.stringify({ arrays }, null, 1)}\n`);
  return { onnx, weights };
}
