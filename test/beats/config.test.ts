import { describe, expect, it } from 'vitest';
import { BEATS_OFFICIAL, beatsGeometry, checkLayers, parseBeatsConfig } from '../../worker/src/beats/config';
import { relativePositionBias, relativePositionBucket } from '../../worker/src/beats/relativePosition';
import { genrepErrorOf as errorOf } from '../helpers/errors';

describe('BEATs cfg', () => {
  it('fills BEATsConfig defaults and derives the official geometry', () => {
    const { config, unknownKeys } = parseBeatsConfig(
      {
        input_patch_size: 16,
        deep_norm: true,
        relative_position_embedding: true,
        gru_rel_pos: true,
        max_distance: 800,
        dropout: 0.1,
        my_extra: 1,
      },
      'm.pt',
    );
    expect(config).toEqual(BEATS_OFFICIAL);
    expect(unknownKeys).toEqual(['my_extra']);
    const g = beatsGeometry(config);
    expect([g.patchesT, g.patchesF, g.tokens, g.headDim]).toEqual([62, 8, 496, 64]);
    expect(g.alpha).toBeCloseTo(2.213363839400643, 14);
  });

  it('treats 0/1 as booleans, as the reference does', () => {
    const { config } = parseBeatsConfig({ ...BEATS_OFFICIAL, gru_rel_pos: 1, deep_norm: 0 }, 'm.pt');
    expect(config.gru_rel_pos).toBe(true);
    expect(beatsGeometry(config).alpha).toBe(1);
  });

  it('refuses layer_norm_first: true as unsupported, naming the option', () => {
    const err = errorOf(() => parseBeatsConfig({ ...BEATS_OFFICIAL, layer_norm_first: true }, 'm.pt'));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toContain('cfg.layer_norm_first');
    expect(err.data.field).toBe('cfg.layer_norm_first');
  });

  it('refuses other activations and missing patch size', () => {
    expect(errorOf(() => parseBeatsConfig({ ...BEATS_OFFICIAL, activation_fn: 'relu' }, 'm.pt')).code).toBe(
      'UNSUPPORTED',
    );
    const { input_patch_size: _unused, ...noPatch } = BEATS_OFFICIAL;
    void _unused;
    const err = errorOf(() => parseBeatsConfig(noPatch, 'm.pt'));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toMatch(/^m\.pt: cfg\.input_patch_size = -1/);
  });

  it('reports a wrongly typed value with its key', () => {
    const err = errorOf(() => parseBeatsConfig({ ...BEATS_OFFICIAL, encoder_layers: '12' }, 'm.pt'));
    expect(err.message).toContain('cfg.encoder_layers');
    expect(err.data.expected).toBe('an integer');
    expect(errorOf(() => parseBeatsConfig({ ...BEATS_OFFICIAL, encoder_attention_heads: 7 }, 'm.pt')).data.field).toBe(
      'cfg.encoder_attention_heads',
    );
  });

  it('checks layer indices against the depth', () => {
    expect(checkLayers([12, 4, 4, 1], 12)).toEqual([1, 4, 12]);
    const err = errorOf(() => checkLayers([13], 12));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain('layer 13 is out of range');
    expect(err.message).toContain('1..12');
    expect(() => checkLayers([], 12)).toThrow(/at least one layer/);
    expect(() => checkLayers([-1], 12)).toThrow(/out of range/);
  });
});

describe('relative position buckets', () => {
  it('matches the spec test vectors (320 buckets, max distance 800)', () => {
    const cases: Array<[number, number]> = [
      [0, 0],
      [1, 161],
      [-1, 1],
      [79, 239],
      [80, 240],
      [-80, 80],
      [83, 241],
      [100, 247],
      [-100, 87],
      [200, 271],
      [495, 303],
      [-495, 143],
    ];
    for (const [r, bucket] of cases) expect(relativePositionBucket(r, 320, 800), `r = ${r}`).toBe(bucket);
  });

  it('clamps far distances to the last bucket of each half', () => {
    expect(relativePositionBucket(5000, 320, 800)).toBe(319);
    expect(relativePositionBucket(-5000, 320, 800)).toBe(159);
  });

  it('gathers the bias tensor [H, N, N] from the table by bucket', () => {
    const heads = 3;
    const table = { shape: [320, heads], data: Float32Array.from({ length: 320 * heads }, (_, i) => i) };
    const N = 496;
    const bias = relativePositionBias(table, N, 800);
    expect(bias.length).toBe(heads * N * N);
    for (const [h, i, j] of [
      [0, 0, 0],
      [1, 10, 11],
      [2, 400, 5],
      [2, 0, 495],
    ] as const) {
      expect(bias[(h * N + i) * N + j]).toBe(relativePositionBucket(j - i, 320, 800) * heads + h);
    }
  });
});
