import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matchDescriptors } from '../../worker/src/encoders/descriptorMatch';
import { readOnnxSignature } from '../../worker/src/encoders/onnxSignature';
import { shippedDescriptors } from '../../worker/src/encoders/shippedDescriptors';
import { openSession, ort } from '../../worker/src/onnx/runtime';
import type { FamilyModel, StandInFamily } from '../helpers/familyModels';
import { buildFamilyModel, reference, referenceMel, STAND_IN_FAMILIES } from '../helpers/familyModels';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-family-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic input in [-1, 1). */
function signal(n: number, phase = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.013 + phase) * 0.7 + Math.cos(i * 0.0071) * 0.2);
}

/** Per family: the encoder input's shape for a batch of 2 (the sizes the descriptors check, or a short clip). */
const INPUT_SHAPES: Record<StandInFamily, number[]> = {
  ast: [2, 1024, 128],
  whisper: [2, 80, 3000],
  wav2vec2: [2, 3200],
  hubert: [2, 3200],
  wavlm: [2, 3200],
  clap: [2, 1, 1001, 64],
  panns: [2, 6400],
  efficientat: [2, 1, 128, 50],
  'speech-embedding': [2, 76, 32, 1],
};

/** Each output's shape for that batch of 2, D = 8. */
const OUTPUT_SHAPES: Record<StandInFamily, Record<string, number[]>> = {
  ast: { 'hidden_states.1': [2, 1024, 8], 'hidden_states.12': [2, 1024, 8], last_hidden_state: [2, 1024, 8] },
  whisper: { last_hidden_state: [2, 1500, 8] },
  wav2vec2: { 'hidden_states.0': [2, 10, 8], 'hidden_states.12': [2, 10, 8] },
  hubert: { 'hidden_states.6': [2, 10, 8] },
  wavlm: { 'hidden_states.12': [2, 10, 8] },
  clap: { last_hidden_state: [2, 8, 8, 1001], audio_embeds: [2, 11] },
  panns: { embedding: [2, 8], clipwise_output: [2, 11] },
  efficientat: { embedding: [2, 8], logits: [2, 11] },
  'speech-embedding': { conv2d_19: [2, 1, 1, 8] },
};

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i += 1) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each(STAND_IN_FAMILIES)('%s stand-in', (family) => {
  const built: FamilyModel = buildFamilyModel(family);
  const file = path.join(dir, `${family}.onnx`);
  writeFileSync(file, built.model);

  it('has the family I/O names and shapes, and outputs equal to the direct computation (≤ 1e-4)', async () => {
    const { session } = await openSession(file, { threads: 1, device: 'cpu' });
    try {
      const shape = INPUT_SHAPES[family];
      const perClip = shape.slice(1).reduce((a, b) => a * b, 1);
      const data = new Float32Array(2 * perClip);
      data.set(signal(perClip), 0);
      data.set(signal(perClip, 1.3), perClip);
      expect(session.inputNames).toHaveLength(1);
      const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, shape) };
      const results = await session.run(feeds);
      for (const [name, dims] of Object.entries(OUTPUT_SHAPES[family])) {
        expect(results[name]?.dims, name).toEqual(dims);
      }
      for (let b = 0; b < 2; b += 1) {
        const expected = reference(built, data.subarray(b * perClip, (b + 1) * perClip));
        for (const [name, values] of Object.entries(expected)) {
          const tensor = results[name];
          expect(tensor, name).toBeDefined();
          const all = tensor!.data as Float32Array;
          const n = all.length / 2;
          expect(maxAbs(all.subarray(b * n, (b + 1) * n), values), `${name}, clip ${b}`).toBeLessThanOrEqual(1e-4);
        }
      }
    } finally {
      await session.release();
    }
  });

  it('is matched by its shipped descriptor in `genrep model inspect`', () => {
    const signature = readOnnxSignature(file);
    const verdicts = matchDescriptors(shippedDescriptors(), signature);
    const fitting = verdicts.filter((v) => v.reasons.length === 0).map((v) => v.descriptor.family);
    expect(fitting).toContain(family);
    // A family whose I/O is unique is matched by its own descriptors only.
    if (!['wav2vec2', 'hubert', 'wavlm'].includes(family)) expect(new Set(fitting)).toEqual(new Set([family]));
  });
});

describe('speech-embedding mel front-end stand-in', () => {
  it('maps int16-scale samples [B, samples] to [B, 1, frames, 32] as the direct computation', async () => {
    const built = buildFamilyModel('speech-embedding');
    const { session } = await openSession(built.frontEnd!, { threads: 1, device: 'cpu' });
    try {
      const samples = signal(1600).map((v) => v * 32768);
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['output']);
      const out = (await session.run({ input: new ort.Tensor('float32', samples, [1, 1600]) }))['output']!;
      expect(out.dims).toEqual([1, 1, 10, 32]);
      const want = referenceMel(built, samples);
      // int16-scale inputs: values up to ~1e4, so a float32 relative tolerance.
      expect(maxAbs(out.data as Float32Array, want)).toBeLessThanOrEqual(1e-5 * 32768);
    } finally {
      await session.release();
    }
  });
});
