import { fileError, GenrepError } from '../errors';
import { shortText } from '../checkpoint/pythonValues';
import type { BeatsConfig } from './config';
import { beatsDims, beatsParameterCount } from './config';

/** Structurally the checkpoint reader's Tensor: contiguous C-order float32. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}
export type StateDict = ReadonlyMap<string, WeightTensor>;

/** The fine-tuned classification head; GenRep never uses it, so its keys are accepted whatever they hold. */
const IGNORED_PREFIXES = ['predictor.'];

/**
 * Every state-dict key the reference module creates for this cfg, with its shape (docs/beats.md, "Checks"). Loading in the
 * reference is strict, so this list is exactly what a valid checkpoint holds.
 */
export function expectedShapes(cfg: BeatsConfig): Map<string, number[]> {
  const { E, C, F, H, p, K } = beatsDims(cfg);
  const shapes = new Map<string, number[]>();
  shapes.set('patch_embedding.weight', [E, 1, p, p]);
  if (cfg.conv_bias) shapes.set('patch_embedding.bias', [E]);
  shapes.set('layer_norm.weight', [E]);
  shapes.set('layer_norm.bias', [E]);
  // The reference only creates the projection when the patch width differs from the encoder width.
  if (E !== C) {
    shapes.set('post_extract_proj.weight', [C, E]);
    shapes.set('post_extract_proj.bias', [C]);
  }
  shapes.set('encoder.pos_conv.0.weight_g', [1, 1, K]);
  shapes.set('encoder.pos_conv.0.weight_v', [C, C / cfg.conv_pos_groups, K]);
  shapes.set('encoder.pos_conv.0.bias', [C]);
  shapes.set('encoder.layer_norm.weight', [C]);
  shapes.set('encoder.layer_norm.bias', [C]);
  for (let i = 0; i < cfg.encoder_layers; i++) {
    const a = `encoder.layers.${i}.self_attn`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      shapes.set(`${a}.${proj}.weight`, [C, C]);
      shapes.set(`${a}.${proj}.bias`, [C]);
    }
    if (cfg.gru_rel_pos) {
      shapes.set(`${a}.grep_linear.weight`, [8, C / H]);
      shapes.set(`${a}.grep_linear.bias`, [8]);
      shapes.set(`${a}.grep_a`, [1, H, 1, 1]);
    }
    // One shared module, registered under every layer; only layer 0's copy is read.
    if (cfg.relative_position_embedding) shapes.set(`${a}.relative_attention_bias.weight`, [cfg.num_buckets, H]);
    const l = `encoder.layers.${i}`;
    shapes.set(`${l}.self_attn_layer_norm.weight`, [C]);
    shapes.set(`${l}.self_attn_layer_norm.bias`, [C]);
    shapes.set(`${l}.fc1.weight`, [F, C]);
    shapes.set(`${l}.fc1.bias`, [F]);
    shapes.set(`${l}.fc2.weight`, [C, F]);
    shapes.set(`${l}.fc2.bias`, [C]);
    shapes.set(`${l}.final_layer_norm.weight`, [C]);
    shapes.set(`${l}.final_layer_norm.bias`, [C]);
  }
  return shapes;
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function listed(keys: string[]): string {
  const shown = keys.slice(0, 5).join(', ');
  return keys.length > 5 ? `${shown} and ${keys.length - 5} more` : shown;
}

/**
 * Checks declared shapes against the cfg: every expected key present with its exact shape, no key the architecture
 * does not define (apart from the ignored head). The message names the offending keys, so a checkpoint of another
 * model or a truncated conversion is recognisable from the one error line. Needs no tensor data, so the checkpoint
 * reader runs it before reading any.
 */
export function checkStateDictShapes(
  shapes: ReadonlyMap<string, readonly number[]>,
  cfg: BeatsConfig,
  file: string,
): void {
  const expected = expectedShapes(cfg);
  const missing = [...expected].filter(([key]) => !shapes.has(key));
  const [firstMissing] = missing;
  if (firstMissing !== undefined) {
    const keys = missing.map(([key]) => key);
    throw fileError(
      file,
      `state dict is missing ${keys.length === 1 ? 'key' : 'keys'} ${listed(keys)} (required by its cfg)`,
      'BAD_INPUT',
      {
        field: `model.${firstMissing[0]}`,
        expected: `shape ${fmt(firstMissing[1])}`,
      },
    );
  }
  const ignored = (key: string): boolean => IGNORED_PREFIXES.some((prefix) => key.startsWith(prefix));
  const unexpected = [...shapes.keys()].filter((key) => !expected.has(key) && !ignored(key));
  if (unexpected.length > 0) {
    throw fileError(
      file,
      `state dict has unexpected ${unexpected.length === 1 ? 'key' : 'keys'} ` +
        `${listed(unexpected.map((key) => shortText(key)))} (not part of a BEATs model with this cfg)`,
      'BAD_INPUT',
      { field: `model.${unexpected[0]}` },
    );
  }
  for (const [key, shape] of expected) {
    const actual = required(shapes, key);
    const same = actual.length === shape.length && actual.every((n, i) => n === shape[i]);
    if (!same) {
      throw fileError(file, `state dict key ${key} has shape ${fmt(actual)}, expected ${fmt(shape)}`, 'BAD_INPUT', {
        field: `model.${key}`,
        expected: `shape ${fmt(shape)}`,
      });
    }
  }
}

/** Float32 bytes of the parameters this cfg defines (every expected key, shared tables counted per key). */
export function parameterBytes(cfg: BeatsConfig): number {
  return 4 * beatsParameterCount(cfg);
}

/**
 * Checks a state dict against the cfg: the shapes (checkStateDictShapes), each tensor's length, and that every
 * weight is finite. A NaN or infinite weight makes every feature NaN, which the kNN scores would pass on silently.
 */
export function checkStateDict(stateDict: StateDict, cfg: BeatsConfig, file: string): void {
  checkStateDictShapes(new Map([...stateDict].map(([key, t]) => [key, t.shape])), cfg, file);
  for (const [key, shape] of expectedShapes(cfg)) {
    const tensor = required(stateDict, key);
    const count = shape.reduce((x, y) => x * y, 1);
    if (tensor.data.length !== count) {
      throw fileError(
        file,
        `state dict key ${key} holds ${tensor.data.length} values, its shape ${fmt(shape)} needs ${count}`,
        'CORRUPT',
        {
          field: `model.${key}`,
        },
      );
    }
    checkFinite(file, key, tensor.data);
  }
}

/** A key checkStateDictShapes has already required, so a miss is a bug here. */
function required<T>(map: ReadonlyMap<string, T>, key: string): T {
  const value = map.get(key);
  if (value === undefined)
    throw new GenrepError(`state dict check: ${key} missing after the keys were checked`, 'INTERNAL');
  return value;
}

function checkFinite(file: string, key: string, data: Float32Array): void {
  // i < data.length, and first indexes a weight found below when bad > 0.
  let first = -1;
  let bad = 0;
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and ±Infinity: one comparison per weight
    if (data[i]! - data[i]! !== 0) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad === 0) return;
  const what = Number.isNaN(data[first]!) ? 'NaN' : String(data[first]);
  throw fileError(
    file,
    `state dict key ${key} holds ${what} at index ${first} (${bad} of its ${data.length} weights are not finite); ` +
      'a model with NaN or infinite weights gives NaN features: use an intact checkpoint',
    'BAD_INPUT',
    { field: `model.${key}`, expected: 'finite weights' },
  );
}
