import { describe, expect, it } from 'vitest';
import { readBeatsCheckpoint } from '../../worker/src/beats/beatsCheckpoint';
import { BEATS_OFFICIAL, beatsParameterCount, type BeatsConfig, parseBeatsConfig } from '../../worker/src/beats/config';
import { validateBeats } from '../../worker/src/beats/convert';
import { checkStateDictShapes, expectedShapes, type WeightTensor } from '../../worker/src/beats/stateDict';
import { readCheckpoint } from '../../worker/src/checkpoint';
import { genrepErrorOf as errorOf } from '../helpers/errors';
import { TINY_CHECKPOINT } from './helpers';

/** The checks that let the checkpoint reader judge a BEATs file before reading its weights, and the weights after. */

describe('cfg integers: type and plausible range, before anything is sized from them', () => {
  const parse = (cfg: Record<string, unknown>, floats: string[] = []) =>
    parseBeatsConfig({ ...BEATS_OFFICIAL, ...cfg }, 'm.pt', floats);

  it('refuses each integer field outside its range, stating the range', () => {
    const ranges: Array<[keyof BeatsConfig, number, number]> = [
      ['embed_dim', 1, 8192],
      ['encoder_layers', 1, 48],
      ['encoder_embed_dim', 1, 8192],
      ['encoder_ffn_embed_dim', 1, 32768],
      ['encoder_attention_heads', 1, 128],
      ['conv_pos', 1, 1024],
      ['conv_pos_groups', 1, 8192],
      ['num_buckets', 1, 8192],
      ['max_distance', 1, 1_000_000],
      ['predictor_class', 1, 1_000_000],
    ];
    for (const [key, min, max] of ranges) {
      for (const value of [min - 1, max + 1]) {
        const err = errorOf(() => parse({ [key]: value }));
        expect(err.message, key).toBe(`m.pt: cfg.${key} = ${value}, expected an integer from ${min} to ${max}`);
        expect(err.data).toMatchObject({ field: `cfg.${key}`, expected: `an integer from ${min} to ${max}` });
      }
    }
  });

  it('states an integer beyond 2^53 exactly', () => {
    expect(errorOf(() => parse({ encoder_layers: 2n ** 64n })).message).toBe(
      'm.pt: cfg.encoder_layers = 18446744073709551616, expected an integer from 1 to 48',
    );
  });

  it('refuses a Python float where an integer or a boolean is expected, even an integral one', () => {
    const err = errorOf(() => parse({ encoder_layers: 12 }, ['encoder_layers']));
    expect(err.message).toBe('m.pt: cfg.encoder_layers is 12.0 (a float), expected an integer');
    expect(err.data.expected).toBe('an integer');
    const bool = errorOf(() => parse({ deep_norm: 1 }, ['deep_norm']));
    expect(bool.message).toBe('m.pt: cfg.deep_norm is 1.0 (a float), expected true or false');
    // training-only options are floats by nature
    expect(parse({ dropout: 0 }, ['dropout']).config.encoder_layers).toBe(12);
  });

  it('refuses a cfg whose model would exceed 2^30 parameters, naming the sizes', () => {
    const widest = { encoder_embed_dim: 8192, encoder_ffn_embed_dim: 32768, encoder_attention_heads: 128 };
    const err = errorOf(() => parse({ ...widest, encoder_layers: 48, conv_pos_groups: 16 }));
    expect(err.message).toMatch(
      /^m\.pt: cfg describes a BEATs model of \d+ parameters \(encoder_layers 48, encoder_embed_dim 8192, /,
    );
    expect(err.message).toMatch(/more than the 1073741824 accepted \(the released checkpoints have 90 million\)$/);
  });

  it('treats a key named like an Object.prototype member as unknown', () => {
    expect(parse({ constructor: 3, toString: 'x' }).unknownKeys).toEqual(['constructor', 'toString']);
  });
});

describe('parameter count from the cfg alone', () => {
  it('equals the sum over the expected state dict, for every optional part', () => {
    const tiny = { encoder_layers: 2, encoder_embed_dim: 64, encoder_ffn_embed_dim: 128, encoder_attention_heads: 4 };
    const variants: BeatsConfig[] = [
      BEATS_OFFICIAL,
      { ...BEATS_OFFICIAL, embed_dim: 768, conv_bias: true, relative_position_embedding: false, gru_rel_pos: false },
      { ...BEATS_OFFICIAL, ...tiny, embed_dim: 32, conv_pos_groups: 4 },
    ];
    for (const cfg of variants) {
      expect(parseBeatsConfig({ ...cfg }, 'm.pt').config).toEqual(cfg);
      const sum = [...expectedShapes(cfg).values()].reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0);
      expect(beatsParameterCount(cfg)).toBe(sum);
    }
  });
});

describe('BEATs checkpoint reading', () => {
  it('reads the tiny fixture with its validated cfg, tensors equal to the generic reader', async () => {
    const { checkpoint, parsed } = await readBeatsCheckpoint(TINY_CHECKPOINT);
    expect(parsed.config.encoder_layers).toBe(2);
    const generic = await readCheckpoint(TINY_CHECKPOINT);
    expect([...checkpoint.tensors.keys()]).toEqual([...generic.tensors.keys()]);
    for (const [key, t] of generic.tensors) expect(checkpoint.tensors.get(key), key).toEqual(t);
  });

  it('checks declared shapes without tensor data', () => {
    const { config } = parseBeatsConfig({ ...BEATS_OFFICIAL }, 'm.pt');
    const shapes = expectedShapes(config);
    expect(() => checkStateDictShapes(shapes, config, 'm.pt')).not.toThrow();
    shapes.set('encoder.layers.3.fc1.weight', [3072, 767]);
    expect(errorOf(() => checkStateDictShapes(shapes, config, 'm.pt')).message).toBe(
      'm.pt: state dict key encoder.layers.3.fc1.weight has shape [3072, 767], expected [3072, 768]',
    );
  });
});

describe('weights must be finite', () => {
  async function tinyWith(key: string, index: number, value: number) {
    const ck = await readCheckpoint(TINY_CHECKPOINT);
    const tensors = new Map<string, WeightTensor>(ck.tensors);
    const t = tensors.get(key)!;
    const data = t.data.slice();
    data[index] = value;
    tensors.set(key, { shape: t.shape, data });
    return { file: 'tiny.pt', cfg: ck.cfg, tensors };
  }

  it('names the tensor, the first bad value and index, and how many there are', async () => {
    const nan = errorOf(validateBeats.bind(null, await tinyWith('encoder.layers.1.fc2.weight', 77, NaN)));
    expect(nan.message).toBe(
      'tiny.pt: state dict key encoder.layers.1.fc2.weight holds NaN at index 77 ' +
        '(1 of its 8192 weights are not finite); a model with NaN or infinite weights gives NaN features: ' +
        'use an intact checkpoint',
    );
    expect(nan.data).toMatchObject({
      file: 'tiny.pt',
      field: 'model.encoder.layers.1.fc2.weight',
      expected: 'finite weights',
    });
    const inf = errorOf(validateBeats.bind(null, await tinyWith('layer_norm.bias', 0, -Infinity)));
    expect(inf.message).toMatch(/state dict key layer_norm\.bias holds -Infinity at index 0 \(1 of its 32 weights/);
  });

  it('ignores the unused predictor head', async () => {
    expect(validateBeats(await tinyWith('predictor.weight', 3, NaN)).config.encoder_layers).toBe(2);
  });
});
