import { beforeAll, describe, expect, it } from 'vitest';
import { parseBeatsConfig } from '../../worker/src/beats/config';
import { beatsOutputDim, buildBeatsGraph, foldWeightNorm } from '../../worker/src/beats/graph';
import type { Checkpoint } from '../../worker/src/checkpoint';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { TINY_CHECKPOINT } from './helpers';

let checkpoint: Checkpoint;
beforeAll(async () => {
  checkpoint = await readCheckpoint(TINY_CHECKPOINT);
});

describe('BEATs graph structure', () => {
  it('stops after the deepest requested layer', () => {
    const { config } = parseBeatsConfig(checkpoint.cfg, 'tiny.pt');
    const model = buildBeatsGraph(checkpoint.tensors, config, { layers: [1], output: 'temporal' }).toModel({
      opsets: [],
      producerVersion: 't',
    });
    const names = model.graph.initializer.map((t) => t.name);
    expect(names.some((n) => n.startsWith('encoder.layers.0.'))).toBe(true);
    expect(names.some((n) => n.startsWith('encoder.layers.1.'))).toBe(false);
    expect(model.graph.output.map((o) => o.name)).toEqual(['layer1_temporal']);
    const full = buildBeatsGraph(checkpoint.tensors, config, { layers: [0, 2], output: 'spatial' }).toModel({
      opsets: [],
      producerVersion: 't',
    });
    expect(full.graph.output.map((o) => o.name)).toEqual(['layer0_spatial', 'layer2_spatial']);
    expect(full.graph.node.length).toBeGreaterThan(model.graph.node.length);
  });

  it('declares the pooled widths of the spec (tiny: C = 64, 62 × 8 patches)', () => {
    const { config } = parseBeatsConfig(checkpoint.cfg, 'tiny.pt');
    expect(beatsOutputDim(config, 'temporal')).toBe(8 * 64);
    expect(beatsOutputDim(config, 'spectral')).toBe(62 * 64);
    expect(beatsOutputDim(config, 'spatial')).toBe(64);
    expect(beatsOutputDim(config, 'hidden')).toBe(496 * 64);
  });

  it('folds weight norm per kernel tap: every tap of g·v/‖v‖ has norm |g|', () => {
    const g = checkpoint.tensors.get('encoder.pos_conv.0.weight_g')!;
    const v = checkpoint.tensors.get('encoder.pos_conv.0.weight_v')!;
    const w = foldWeightNorm(g, v);
    const [outCh, inCh, K] = v.shape as [number, number, number];
    for (const k of [0, 1, 63, K - 1]) {
      let sum = 0;
      for (let i = 0; i < outCh * inCh; i++) sum += w[i * K + k]! ** 2;
      expect(Math.sqrt(sum)).toBeCloseTo(Math.abs(g.data[k]!), 5);
    }
  });
});
