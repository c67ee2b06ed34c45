import { beforeAll, describe, expect, it } from 'vitest';
import { parseBeatsConfig } from '../../worker/src/beats/config';
import { validateBeats } from '../../worker/src/beats/convert';
import type { WeightTensor } from '../../worker/src/beats/stateDict';
import { expectedShapes } from '../../worker/src/beats/stateDict';
import type { Checkpoint } from '../../worker/src/checkpoint';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { GoldenSet } from '../helpers/golden';
import { TINY_CHECKPOINT } from './helpers';
import { genrepErrorOf as failure } from '../helpers/errors';

let checkpoint: Checkpoint;
beforeAll(async () => {
  checkpoint = await readCheckpoint(TINY_CHECKPOINT);
});

function withTensors(edit: (tensors: Map<string, WeightTensor>) => void) {
  const tensors = new Map(checkpoint.tensors);
  edit(tensors);
  return { file: 'tiny.pt', cfg: checkpoint.cfg, tensors };
}

describe('state dict check (tiny fixture checkpoint)', () => {
  it('expects exactly the keys and shapes the reference manifest lists, apart from the predictor head', () => {
    const manifest = new GoldenSet('golden-beats-tiny').manifest as unknown as {
      checkpoint: { state_dict: Record<string, number[]> };
    };
    const listed = Object.entries(manifest.checkpoint.state_dict).filter(([key]) => !key.startsWith('predictor.'));
    const { config } = parseBeatsConfig(checkpoint.cfg, 'tiny.pt');
    expect(new Map(listed)).toEqual(expectedShapes(config));
  });

  it('accepts the fixture, which carries a fine-tuned predictor head', () => {
    expect([...checkpoint.tensors.keys()].some((k) => k.startsWith('predictor.'))).toBe(true);
    expect(
      validateBeats({ file: 'tiny.pt', cfg: checkpoint.cfg, tensors: checkpoint.tensors }).config.encoder_layers,
    ).toBe(2);
  });

  it('ignores any predictor.* content', () => {
    const weights = withTensors((t) => t.set('predictor.extra_thing', { shape: [3], data: new Float32Array(3) }));
    expect(() => validateBeats(weights)).not.toThrow();
  });

  it('names a missing key', () => {
    const err = failure(() => validateBeats(withTensors((t) => t.delete('encoder.layers.1.fc2.bias'))));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain('missing key encoder.layers.1.fc2.bias');
    expect(err.data.field).toBe('model.encoder.layers.1.fc2.bias');
  });

  it('names an unexpected key', () => {
    const err = failure(() =>
      validateBeats(
        withTensors((t) => t.set('encoder.layers.2.fc1.weight', { shape: [1], data: new Float32Array(1) })),
      ),
    );
    expect(err.message).toContain('unexpected key encoder.layers.2.fc1.weight');
  });

  it('names a wrong shape with both shapes', () => {
    const err = failure(() =>
      validateBeats(
        withTensors((t) => t.set('encoder.layers.0.self_attn.grep_a', { shape: [1, 4, 1], data: new Float32Array(4) })),
      ),
    );
    expect(err.message).toContain('encoder.layers.0.self_attn.grep_a has shape [1, 4, 1], expected [1, 4, 1, 1]');
  });

  it('reports a cfg that contradicts the weights as shape errors', () => {
    const err = failure(() =>
      validateBeats({
        file: 'tiny.pt',
        cfg: { ...checkpoint.cfg, encoder_ffn_embed_dim: 256 },
        tensors: checkpoint.tensors,
      }),
    );
    expect(err.message).toMatch(/fc1\.weight has shape \[128, 64\], expected \[256, 64\]/);
  });

  it('refuses an unsupported cfg option before looking at weights', () => {
    const err = failure(() =>
      validateBeats({
        file: 'tiny.pt',
        cfg: { ...checkpoint.cfg, layer_norm_first: true },
        tensors: checkpoint.tensors,
      }),
    );
    expect(err.code).toBe('UNSUPPORTED');
  });
});
