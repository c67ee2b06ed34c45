import { beforeAll, describe, expect, it } from 'vitest';
import { convertBeatsToBytes } from '../../worker/src/beats/convert';
import { beatsOutputName } from '../../worker/src/beats/graph';
import type { Checkpoint } from '../../worker/src/checkpoint';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { beatsFbank } from '../../worker/src/fbank';
import { openSession, ort } from '../../worker/src/onnx/runtime';
import { GoldenSet } from '../helpers/golden';
import { cosine, relativeL2, rows, TINY_CHECKPOINT } from './helpers';

const golden = new GoldenSet('golden-beats-tiny');
let checkpoint: Checkpoint;

beforeAll(async () => {
  checkpoint = await readCheckpoint(TINY_CHECKPOINT);
});

async function run(bytes: Uint8Array, fbank: Float32Array, batch: number): Promise<ort.InferenceSession.ReturnType> {
  const { session } = await openSession(bytes, { threads: 1, device: 'cpu' });
  try {
    return await session.run({ fbank: new ort.Tensor('float32', fbank, [batch, 998, 128]) });
  } finally {
    await session.release();
  }
}

describe('BEATs ONNX graph against the reference PyTorch outputs (tiny checkpoint)', () => {
  it('matches every hidden layer to relative L2 ≤ 2e-3, clip by clip', async () => {
    const fbank = golden.f32('beats/fbank_norm');
    const bytes = convertBeatsToBytes(checkpoint, { layers: [0, 1, 2], output: 'hidden' });
    const out = await run(bytes, fbank.data, 3);
    for (const layer of [0, 1, 2]) {
      const expected = golden.f32(`beats/layer${layer}`);
      const got = out[beatsOutputName(layer, 'hidden')]!;
      expect(got.dims).toEqual([3, 496, 64]);
      const dim = 496 * 64;
      const gotRows = rows(got.data as Float32Array, dim);
      rows(expected.data, dim).forEach((ref, clip) => {
        const err = relativeL2(gotRows[clip]!, ref);
        expect(err, `layer ${layer} clip ${clip}`).toBeLessThanOrEqual(2e-3);
      });
    }
  });

  it('matches the temporal-pooled features to cosine ≥ 0.99999', async () => {
    const fbank = golden.f32('beats/fbank_norm');
    const bytes = convertBeatsToBytes(checkpoint, { layers: [1, 2], output: 'temporal' });
    const out = await run(bytes, fbank.data, 3);
    for (const layer of [1, 2]) {
      const expected = golden.f32(`beats/pooled_temporal/layer${layer}`);
      const got = out[beatsOutputName(layer, 'temporal')]!;
      expect(got.dims).toEqual([3, 512]);
      const gotRows = rows(got.data as Float32Array, 512);
      rows(expected.data, 512).forEach((ref, clip) => {
        expect(cosine(gotRows[clip]!, ref), `layer ${layer} clip ${clip}`).toBeGreaterThanOrEqual(0.99999);
      });
    }
  });

  it('reaches the same features from the raw waveforms through beatsFbank', async () => {
    const wave = golden.f32('beats/input_wave');
    const fbank = new Float32Array(3 * 998 * 128);
    for (let clip = 0; clip < 3; clip++) {
      const fb = beatsFbank(wave.data.subarray(clip * 160000, (clip + 1) * 160000));
      expect([fb.frames, fb.bins]).toEqual([998, 128]);
      fbank.set(fb.data, clip * 998 * 128);
    }
    const bytes = convertBeatsToBytes(checkpoint, { layers: [1, 2], output: 'temporal' });
    const out = await run(bytes, fbank, 3);
    for (const layer of [1, 2]) {
      const expected = golden.f32(`beats/pooled_temporal/layer${layer}`);
      const gotRows = rows(out[beatsOutputName(layer, 'temporal')]!.data as Float32Array, 512);
      rows(expected.data, 512).forEach((ref, clip) => {
        expect(cosine(gotRows[clip]!, ref), `layer ${layer} clip ${clip}`).toBeGreaterThanOrEqual(0.99999);
      });
    }
    // The hidden states too, from the waveform: the acceptance's end-to-end form.
    const hidden = await run(convertBeatsToBytes(checkpoint, { layers: [0, 1, 2], output: 'hidden' }), fbank, 3);
    for (const layer of [0, 1, 2]) {
      const gotRows = rows(hidden[beatsOutputName(layer, 'hidden')]!.data as Float32Array, 496 * 64);
      rows(golden.f32(`beats/layer${layer}`).data, 496 * 64).forEach((ref, clip) => {
        expect(relativeL2(gotRows[clip]!, ref), `layer ${layer} clip ${clip}`).toBeLessThanOrEqual(2e-3);
      });
    }
  });
});

describe('int8 variant (dynamic quantisation of the linear layers)', () => {
  it('stays close to the reference: pooled cosine ≥ 0.999, hidden states within 5e-2 relative L2', async () => {
    const fbank = golden.f32('beats/fbank_norm');
    const out = await run(
      convertBeatsToBytes(checkpoint, { layers: [2], output: 'temporal', quantize: 'int8' }),
      fbank.data,
      3,
    );
    const ref = rows(golden.f32('beats/pooled_temporal/layer2').data, 512);
    rows(out['layer2_temporal']!.data as Float32Array, 512).forEach((row, clip) =>
      expect(cosine(row, ref[clip]!)).toBeGreaterThanOrEqual(0.999),
    );
    const hidden = await run(
      convertBeatsToBytes(checkpoint, { layers: [2], output: 'hidden', quantize: 'int8' }),
      fbank.data,
      3,
    );
    const err = relativeL2(hidden['layer2']!.data as Float32Array, golden.f32('beats/layer2').data);
    expect(err).toBeLessThanOrEqual(5e-2);
    expect(err).toBeGreaterThan(1e-5); // it is really quantised
  });
});
