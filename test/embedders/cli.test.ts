import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWavPcm16 } from '../../worker/src/audio';
import { runCli as run } from '../helpers/cli';
import { fbankStatistics } from '../../worker/src/embedders';
import { readNpy } from '../../worker/src/io/npy';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import { FIXTURES, GoldenSet } from '../helpers/golden';
import { cosine, rows, TINY_CHECKPOINT } from '../beats/helpers';

/** The DCASE fan clip is the reference's clip `real1` (row 1 of beats/input_wave). */
const FAN_WAV = path.join(FIXTURES, 'audio', 'dcase2023_fan_test_section_00_source_test_anomaly_0022_m-n_W.wav');
const golden = new GoldenSet('golden-beats-tiny');
let dir: string;
let toyWav: string;

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-embed-cli-'));
  // Clip real0 (ToyCar) came from 16-bit PCM, so writing it back as PCM 16 is lossless.
  toyWav = path.join(dir, 'toycar.wav');
  await fsp.writeFile(toyWav, encodeWavPcm16(golden.f32('beats/input_wave').data.slice(0, 160000), 16000));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** `genrep embed` with `options`, writing the features to `out`, over `clips`. */
const embed = (options: string[], out: string, ...clips: string[]) =>
  run(['embed', ...options, '--out', out, ...clips]);

describe('genrep embed', () => {
  it('writes fbank-stats features as float32 [layers, files, dim]', async () => {
    const out = path.join(dir, 'stats.npy');
    const { code, stdout, stderr } = await embed(['--model', 'fbank-stats', '--layers', '1'], out, toyWav, FAN_WAV);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('[1, 2, 256] float32 (fbank-stats:v1');
    const npy = await readNpy(out);
    expect(npy.shape).toEqual([1, 2, 256]);
    const wave = golden.f32('beats/input_wave').data;
    expect(Array.from(npy.data.subarray(0, 256))).toEqual(Array.from(fbankStatistics(wave.subarray(0, 160000))));
  });

  it('runs a .pt checkpoint (converted into the cache) and matches the reference features', async () => {
    const out = path.join(dir, 'beats.npy');
    const cache = path.join(dir, 'cache');
    const { code, stderr } = await embed(
      ['--model', TINY_CHECKPOINT, '--layers', 'all', '--threads', '1', '--device', 'cpu', '--cache-dir', cache],
      out,
      toyWav,
      FAN_WAV,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const npy = await readNpy(out);
    expect(npy.shape).toEqual([2, 2, 512]);
    for (const layer of [1, 2]) {
      const ref = rows(golden.f32(`beats/pooled_temporal/layer${layer}`).data, 512);
      const got = rows(npy.data.subarray((layer - 1) * 2 * 512, layer * 2 * 512), 512);
      expect(cosine(got[0]!, ref[0]!)).toBeGreaterThanOrEqual(0.99999);
      expect(cosine(got[1]!, ref[1]!)).toBeGreaterThanOrEqual(0.99999);
    }
  });

  it('converts with `model convert` and embeds with the converted graph', async () => {
    const onnx = path.join(dir, 'tiny.onnx');
    const converted = await run([
      'model',
      'convert',
      TINY_CHECKPOINT,
      '--out',
      onnx,
      '--layers',
      '1,2',
      '--pooling',
      'temporal',
    ]);
    expect(converted.code).toBe(0);
    expect(converted.stdout).toContain('BEATs 2×64, layers 1,2, temporal');
    const out = path.join(dir, 'converted.npy');
    const { code } = await embed(['--model', onnx, '--layers', '2,1', '--device', 'cpu'], out, FAN_WAV);
    expect(code).toBe(0);
    const npy = await readNpy(out);
    expect(npy.shape).toEqual([2, 1, 512]);
    expect(
      cosine(npy.data.subarray(0, 512), rows(golden.f32('beats/pooled_temporal/layer2').data, 512)[1]!),
    ).toBeGreaterThanOrEqual(0.99999);
    expect(
      cosine(npy.data.subarray(512), rows(golden.f32('beats/pooled_temporal/layer1').data, 512)[1]!),
    ).toBeGreaterThanOrEqual(0.99999);

    const missing = await embed(['--model', onnx, '--layers', '1', '--pooling', 'spatial'], out, FAN_WAV);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("has no 'spatial' outputs (it has temporal)");
  });

  it('refuses hidden-state graphs for embedding, out-of-range layers and malformed layer lists', async () => {
    const hidden = path.join(dir, 'hidden.onnx');
    expect(
      (await run(['model', 'convert', TINY_CHECKPOINT, '--out', hidden, '--layers', '2', '--pooling', 'none'])).code,
    ).toBe(0);
    const out = path.join(dir, 'x.npy');
    const notPooled = await embed(['--model', hidden], out, FAN_WAV);
    expect(notPooled.stderr).toContain('not a pooled BEATs graph');
    const tooDeep = await embed(
      ['--model', TINY_CHECKPOINT, '--cache-dir', path.join(dir, 'cache'), '--layers', '3'],
      out,
      FAN_WAV,
    );
    expect(tooDeep.code).toBe(1);
    expect(tooDeep.stderr).toContain('layer 3 is out of range; this model has layers 1..2');
    const bad = await embed(['--model', 'fbank-stats', '--layers', '1-3'], out, FAN_WAV);
    expect(bad.stderr).toContain("--layers '1-3': expected a layer number");
    const convertTooDeep = await run(['model', 'convert', TINY_CHECKPOINT, '--out', hidden, '--layers', '13']);
    expect(convertTooDeep.stderr).toContain('layer 13 is out of range');
    await expect(fsp.access(out)).rejects.toThrow();
  });

  it('plugs in a user ONNX encoder by input kind and output name', async () => {
    const g = new GraphBuilder('rms');
    const x = g.input('wave', TensorDataType.FLOAT, ['batch', 'samples']);
    const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: ints([1]), keepdims: int(1) });
    g.op('Sqrt', [meanSquare], {}, { outputs: ['rms'] });
    g.output('rms', TensorDataType.FLOAT, ['batch', 1]);
    const model = path.join(dir, 'rms.onnx');
    await fsp.writeFile(model, g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 'test' }));
    const out = path.join(dir, 'rms.npy');
    const { code } = await embed(
      ['--model', model, '--input-kind', 'waveform', '--output', 'rms', '--layers', '1'],
      out,
      toyWav,
    );
    expect(code).toBe(0);
    const wave = golden.f32('beats/input_wave').data.subarray(0, 160000);
    const rms = Math.sqrt(wave.reduce((s, v) => s + v * v, 0) / wave.length);
    const npy = await readNpy(out);
    expect(npy.shape).toEqual([1, 1, 1]);
    expect(npy.data[0]).toBeCloseTo(rms, 5);
    const half = await embed(['--model', model, '--input-kind', 'waveform'], out, toyWav);
    expect(half.stderr).toContain('needs both --input-kind and --output');
  });
});
