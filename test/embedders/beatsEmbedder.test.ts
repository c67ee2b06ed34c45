import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../worker/src/beats/modelCache';
import { createEmbedder, type Embedder } from '../../worker/src/embedders';
import { GenrepError } from '../../worker/src/errors';
import { GoldenSet } from '../helpers/golden';
import { cosine, rows, TINY_CHECKPOINT } from '../beats/helpers';

const golden = new GoldenSet('golden-beats-tiny');
const wave = golden.f32('beats/input_wave');
const clips = [0, 1, 2].map((i) => wave.data.slice(i * 160000, (i + 1) * 160000));
let cacheDir: string;
let embedder: Embedder;

beforeAll(async () => {
  cacheDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-beats-cache-'));
  embedder = await createEmbedder(
    { kind: 'beats', checkpoint: TINY_CHECKPOINT },
    { cacheDir, threads: 1, device: 'cpu' },
  );
});

afterAll(async () => {
  await embedder.dispose();
  await fsp.rm(cacheDir, { recursive: true, force: true });
});

describe('BEATs embedder (tiny checkpoint)', () => {
  it('identifies itself by the checkpoint sha256 and reports its depth and widths', async () => {
    expect(embedder.id).toBe(`beats:${await sha256File(TINY_CHECKPOINT)}`);
    expect(embedder.numLayers).toBe(2);
    expect(embedder.dim('temporal')).toBe(512);
    expect(embedder.dim('spectral')).toBe(62 * 64);
    expect(embedder.dim('spatial')).toBe(64);
  });

  it('returns one [clips × dim] matrix per requested layer, in the order asked, matching the reference', async () => {
    const progress: Array<[number, number]> = [];
    const [layer2, layer1] = await embedder.embed(clips, {
      layers: [2, 1],
      pooling: 'temporal',
      batchSize: 2,
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(progress).toEqual([
      [2, 3],
      [3, 3],
    ]);
    for (const [got, layer] of [
      [layer1!, 1],
      [layer2!, 2],
    ] as const) {
      expect(got.length).toBe(3 * 512);
      const ref = rows(golden.f32(`beats/pooled_temporal/layer${layer}`).data, 512);
      rows(got, 512).forEach((row, clip) =>
        expect(cosine(row, ref[clip]!), `layer ${layer} clip ${clip}`).toBeGreaterThanOrEqual(0.99999),
      );
    }
    expect(embedder.provider).toBe('cpu');
  });

  it('pools spectrally and spatially from the same hidden states', async () => {
    const layer1 = golden.f32('beats/layer1').data.subarray(0, 496 * 64); // clip 0, [496, 64], token t·8 + f
    const spatialRef = new Float32Array(64);
    const spectralRef = new Float32Array(62 * 64);
    for (let t = 0; t < 62; t++) {
      for (let f = 0; f < 8; f++) {
        for (let c = 0; c < 64; c++) {
          const v = layer1[(t * 8 + f) * 64 + c]!;
          spatialRef[c]! += v / 496;
          spectralRef[t * 64 + c]! += v / 8;
        }
      }
    }
    const [spatial] = await embedder.embed(clips.slice(0, 1), { layers: [1], pooling: 'spatial' });
    const [spectral] = await embedder.embed(clips.slice(0, 1), { layers: [1], pooling: 'spectral' });
    expect(cosine(spatial!, spatialRef)).toBeGreaterThanOrEqual(0.99999);
    expect(cosine(spectral!, spectralRef)).toBeGreaterThanOrEqual(0.99999);
  });

  it('converts each graph once and reuses the cached file afterwards', async () => {
    const dir = path.join(cacheDir, 'beats', await sha256File(TINY_CHECKPOINT));
    const files = (await fsp.readdir(dir)).filter((f) => f.endsWith('.onnx')).sort();
    expect(files).toEqual([
      'layers-0_1.spatial.fp32.g1.onnx',
      'layers-0_1.spectral.fp32.g1.onnx',
      'layers-0_1_2.temporal.fp32.g1.onnx',
    ]);
    const before = (await fsp.stat(path.join(dir, files[2]!))).mtimeMs;
    const again = await createEmbedder(
      { kind: 'beats', checkpoint: TINY_CHECKPOINT },
      { cacheDir, threads: 1, device: 'cpu' },
    );
    const [first] = await again.embed(clips.slice(0, 1), { layers: [2], pooling: 'temporal' });
    await again.dispose();
    expect((await fsp.stat(path.join(dir, files[2]!))).mtimeMs).toBe(before);
    expect(first!.length).toBe(512);
    const arch = JSON.parse(await fsp.readFile(path.join(dir, 'arch.json'), 'utf8')) as {
      config: { encoder_layers: number };
    };
    expect(arch.config.encoder_layers).toBe(2);
  });

  it('refuses a layer beyond the model (3 of 2) and honours cancellation', async () => {
    await expect(embedder.embed(clips, { layers: [3], pooling: 'temporal' })).rejects.toThrow(
      /layer 3 is out of range; this model has layers 1\.\.2/,
    );
    const controller = new AbortController();
    controller.abort();
    const err = await embedder
      .embed(clips, { layers: [1], pooling: 'temporal', signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenrepError);
    expect((err as GenrepError).code).toBe('CANCELLED');
  });

  it('reports a checkpoint that does not exist', async () => {
    await expect(
      createEmbedder({ kind: 'beats', checkpoint: path.join(cacheDir, 'nope.pt') }, { cacheDir }),
    ).rejects.toThrow(/nope\.pt: no such file/);
  });
});
