import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder, fbankStatistics } from '../../worker/src/embedders';
import type { DimInit } from '../../worker/src/onnx/proto';
import { TensorDataType } from '../../worker/src/onnx/proto';
import { GraphBuilder, int, ints } from '../../worker/src/onnx/graphBuilder';
import { genrepRejection as failure } from '../helpers/errors';
import { sha256File, sha256FileMemo, sha256MemoDir } from '../../worker/src/beats/modelCache';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-onnx-encoder-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Writes a one-input model: `body` maps the input to named outputs. */
async function writeModel(
  name: string,
  input: { dims: DimInit[]; type?: 1 | 7 },
  body: (g: GraphBuilder, x: string) => Array<{ name: string; dims: DimInit[] }>,
  extraInput = false,
): Promise<string> {
  const g = new GraphBuilder(name);
  const x = g.input('audio', input.type ?? TensorDataType.FLOAT, input.dims);
  if (extraInput) g.input('second', TensorDataType.FLOAT, [1]);
  for (const out of body(g, x)) g.output(out.name, TensorDataType.FLOAT, out.dims);
  const file = path.join(dir, `${name}.onnx`);
  await fsp.writeFile(file, g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 'test' }));
  return file;
}

/** [B, n] → [B, 2]: mean and max over the samples. */
const meanMax = (g: GraphBuilder, x: string) => {
  const mean = g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(1) });
  const max = g.op('ReduceMax', [x], { axes: ints([1]), keepdims: int(1) });
  g.op('Concat', [mean, max], { axis: int(1) }, { outputs: ['embedding'] });
  g.op('Identity', [mean], {}, { outputs: ['other'] });
  return [
    { name: 'embedding', dims: ['batch', 2] as DimInit[] },
    { name: 'other', dims: ['batch', 1] as DimInit[] },
  ];
};

const ramp = Float32Array.from({ length: 200000 }, (_, i) => (i < 160000 ? i / 160000 : 5));

describe('user ONNX encoder', () => {
  it('feeds 10 s waveforms (cut or zero-padded) and returns the named output', async () => {
    const file = await writeModel('wave', { dims: ['batch', 'samples'] }, meanMax);
    const embedder = await createEmbedder(
      { kind: 'onnx', path: file, input: 'waveform', output: 'embedding' },
      { threads: 1, device: 'cpu' },
    );
    expect(embedder.id).toMatch(/^onnx:[0-9a-f]{32}$/);
    expect(embedder.numLayers).toBe(1);
    expect(embedder.dim('temporal')).toBe(2);
    const short = Float32Array.from({ length: 16000 }, () => 0.5);
    const [out] = await embedder.embed([ramp, short, short], { layers: [1], pooling: 'temporal', batchSize: 2 });
    expect(out![0]).toBeCloseTo(0.5, 4); // mean of i/160000 over the first 160000 samples; the 5s beyond are cut
    expect(out![1]).toBeCloseTo(159999 / 160000, 6);
    expect(out![2]).toBeCloseTo(0.05, 6); // 1 s of 0.5 padded to 10 s
    expect(out![3]).toBe(0.5);
    expect(Array.from(out!.subarray(4))).toEqual(Array.from(out!.subarray(2, 4)));
    await expect(embedder.embed([short], { layers: [2], pooling: 'temporal' })).rejects.toThrow(/single layer \(1\)/);
    await embedder.dispose();
  });

  it("takes the model's sha256 from the cache folder's memo, so a repeated job does not read the model again", async () => {
    const file = await writeModel('memo', { dims: ['batch', 'samples'] }, meanMax);
    const cacheDir = path.join(dir, 'memo-cache');
    const spec = { kind: 'onnx', path: file, input: 'waveform', output: 'embedding' } as const;
    const truth = await sha256File(file);
    // Racy window 0: the model was written a moment ago (test/beats/sha256Memo.test.ts covers the window itself).
    await sha256FileMemo(file, sha256MemoDir(cacheDir), 0n);
    const [memoName] = await fsp.readdir(sha256MemoDir(cacheDir));
    const memoFile = path.join(sha256MemoDir(cacheDir), memoName!);
    const memo = JSON.parse(await fsp.readFile(memoFile, 'utf8')) as Record<string, string>;
    expect(memo['sha256']).toBe(truth);
    // A planted answer comes back through the embedder's id: it read the memo, not the model.
    await fsp.writeFile(memoFile, JSON.stringify({ ...memo, sha256: 'ab'.repeat(32) }));
    const remembered = await createEmbedder(spec, { device: 'cpu', cacheDir });
    const hashed = await createEmbedder(spec, { device: 'cpu' });
    const idOf = (sha256: string) =>
      `onnx:${createHash('sha256').update(`${sha256}\nwaveform\nembedding`).digest('hex').slice(0, 32)}`;
    expect(remembered.id).toBe(idOf('ab'.repeat(32)));
    expect(hashed.id).toBe(idOf(truth));
    await Promise.all([remembered.dispose(), hashed.dispose()]);
  });

  it('uses a fixed input length and a fixed batch of 1 as the model declares them', async () => {
    const file = await writeModel('wave_fixed', { dims: [1, 16000] }, meanMax);
    const embedder = await createEmbedder(
      { kind: 'onnx', path: file, input: 'waveform', output: 'embedding' },
      { threads: 1, device: 'cpu' },
    );
    const [out] = await embedder.embed([ramp, ramp], { layers: [1], pooling: 'temporal', batchSize: 8 });
    expect(out!.length).toBe(4);
    expect(out![1]).toBeCloseTo(15999 / 160000, 6);
    await embedder.dispose();
  });

  it('refuses a pooling it cannot honour: its vectors come out pooled by the model itself', async () => {
    const file = await writeModel('wave_pooled', { dims: ['batch', 'samples'] }, meanMax);
    const embedder = await createEmbedder(
      { kind: 'onnx', path: file, input: 'waveform', output: 'embedding' },
      { threads: 1, device: 'cpu' },
    );
    for (const pooling of ['spectral', 'spatial'] as const) {
      const err = await failure(embedder.embed([ramp], { layers: [1], pooling }));
      expect(err.code).toBe('BAD_INPUT');
      expect(err.message).toBe(
        `${file}: pooling '${pooling}' does not apply to this ONNX encoder, whose output 'embedding' is one vector ` +
          "per clip, pooled by the model itself; use 'temporal'",
      );
      expect(err.data).toEqual({ file, field: 'pooling', expected: 'temporal' });
      expect(() => embedder.dim(pooling)).toThrow(/pooling 'spatial'|pooling 'spectral'/);
    }
    expect(embedder.dim('temporal')).toBe(2);
    await embedder.dispose();
  });

  it('names the model and the output when a run returns another size than the probe did', async () => {
    // Mean over the batch: [1, 100] whatever the batch, which the probe (a batch of 1) cannot tell apart.
    const file = await writeModel('batch_mean', { dims: ['batch', 100] }, (g, x) => {
      g.op('ReduceMean', [x], { axes: ints([0]), keepdims: int(1) }, { outputs: ['embedding'] });
      return [{ name: 'embedding', dims: [1, 100] }];
    });
    const embedder = await createEmbedder(
      { kind: 'onnx', path: file, input: 'waveform', output: 'embedding' },
      { threads: 1, device: 'cpu' },
    );
    const err = await failure(embedder.embed([ramp, ramp], { layers: [1], pooling: 'temporal', batchSize: 2 }));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toBe(
      `${file}: output 'embedding' has shape [1, 100] (100 values) for a batch of 2; expected [2, 100]`,
    );
    await embedder.dispose();
  });

  it('feeds the BEATs-normalised fbank to an fbank encoder', async () => {
    const file = await writeModel('fbank', { dims: ['batch', 998, 128] }, (g, x) => {
      g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(0) }, { outputs: ['vec'] });
      return [{ name: 'vec', dims: ['batch', 128] }];
    });
    const embedder = await createEmbedder(
      { kind: 'onnx', path: file, input: 'fbank', output: 'vec' },
      { threads: 1, device: 'cpu' },
    );
    const clip = Float32Array.from({ length: 40000 }, (_, i) => 0.2 * Math.sin(i * 0.05) + 0.01 * Math.sin(i * 1.3));
    const [out] = await embedder.embed([clip], { layers: [1], pooling: 'temporal' });
    const means = fbankStatistics(clip).subarray(0, 128);
    for (let b = 0; b < 128; b++) expect(out![b]).toBeCloseTo(means[b]!, 4);
    await embedder.dispose();
  });

  it('explains an input of the wrong rank', async () => {
    const file = await writeModel('rank3', { dims: ['batch', 1, 'samples'] }, (g, x) => {
      g.op('ReduceMean', [x], { axes: ints([2]), keepdims: int(0) }, { outputs: ['embedding'] });
      return [{ name: 'embedding', dims: ['batch', 1] }];
    });
    const err = await failure(
      createEmbedder({ kind: 'onnx', path: file, input: 'waveform', output: 'embedding' }, { device: 'cpu' }),
    );
    expect(err.message).toContain(
      "input 'audio' has rank 3 ([batch, 1, samples]); a waveform encoder takes float32 [batch, samples]",
    );
    expect(err.data.file).toBe(file);
  });

  it('explains fbank dimensions that do not fit', async () => {
    const file = await writeModel('bins64', { dims: ['batch', 998, 64] }, (g, x) => {
      g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(0) }, { outputs: ['vec'] });
      return [{ name: 'vec', dims: ['batch', 64] }];
    });
    const err = await failure(
      createEmbedder({ kind: 'onnx', path: file, input: 'fbank', output: 'vec' }, { device: 'cpu' }),
    );
    expect(err.message).toContain('has 64 bins');
    expect(err.data.expected).toBe('float32 [batch, 998, 128]');
  });

  it('explains a missing output, several inputs, a non-float input and a graph that rejects 10 s', async () => {
    const wave = await writeModel('wave2', { dims: ['batch', 'samples'] }, meanMax);
    expect(
      (await failure(createEmbedder({ kind: 'onnx', path: wave, input: 'waveform', output: 'emb' }, { device: 'cpu' })))
        .message,
    ).toContain("no output 'emb'; its outputs are embedding, other");
    const two = await writeModel('two_inputs', { dims: ['batch', 'samples'] }, meanMax, true);
    expect(
      (
        await failure(
          createEmbedder({ kind: 'onnx', path: two, input: 'waveform', output: 'embedding' }, { device: 'cpu' }),
        )
      ).message,
    ).toContain('has 2 inputs (audio, second)');
    const ints64 = await writeModel('int_input', { dims: ['batch', 'samples'], type: TensorDataType.INT64 }, (g, x) => {
      g.op('Cast', [x], { to: int(TensorDataType.FLOAT) }, { outputs: ['embedding'] });
      return [{ name: 'embedding', dims: ['batch', 'samples'] }];
    });
    expect(
      (
        await failure(
          createEmbedder({ kind: 'onnx', path: ints64, input: 'waveform', output: 'embedding' }, { device: 'cpu' }),
        )
      ).message,
    ).toContain("input 'audio' is int64");
    const picky = await writeModel('picky', { dims: ['batch', 'samples'] }, (g, x) => {
      g.op('Reshape', [x, g.int64Tensor('three', [0, 3, -1])], {}, { outputs: ['embedding'] });
      return [{ name: 'embedding', dims: ['batch', 3, 'rest'] }];
    });
    const err = await failure(
      createEmbedder({ kind: 'onnx', path: picky, input: 'waveform', output: 'embedding' }, { device: 'cpu' }),
    );
    expect(err.message).toContain('rejects a [1, 160000] input');
  });

  it('reports a file that is not an ONNX model', async () => {
    const junk = path.join(dir, 'junk.onnx');
    await fsp.writeFile(junk, 'not a model');
    const err = await failure(
      createEmbedder({ kind: 'onnx', path: junk, input: 'waveform', output: 'x' }, { device: 'cpu' }),
    );
    expect(err.message).toContain('ONNX Runtime cannot load this model');
  });
});
