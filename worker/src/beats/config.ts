import { fileError, GenrepError } from '../errors';

/**
 * The BEATs configuration as the checkpoint's `cfg` dict states it (docs/beats.md, "Checks"), field names as the
 * reference `BEATsConfig` spells them. Only what changes the inference graph is kept; dropouts, layer drop and the
 * gradient-decay ratio do nothing in eval mode.
 */
export interface BeatsConfig {
  input_patch_size: number;
  embed_dim: number;
  conv_bias: boolean;
  encoder_layers: number;
  encoder_embed_dim: number;
  encoder_ffn_embed_dim: number;
  encoder_attention_heads: number;
  activation_fn: string;
  layer_norm_first: boolean;
  deep_norm: boolean;
  conv_pos: number;
  conv_pos_groups: number;
  relative_position_embedding: boolean;
  num_buckets: number;
  max_distance: number;
  gru_rel_pos: boolean;
  finetuned_model: boolean;
  predictor_class: number;
}

/** `BEATsConfig` defaults; a checkpoint's cfg overrides them key by key, as the reference's `update` does. */
export const BEATS_DEFAULTS: BeatsConfig = {
  input_patch_size: -1,
  embed_dim: 512,
  conv_bias: false,
  encoder_layers: 12,
  encoder_embed_dim: 768,
  encoder_ffn_embed_dim: 3072,
  encoder_attention_heads: 12,
  activation_fn: 'gelu',
  layer_norm_first: false,
  deep_norm: false,
  conv_pos: 128,
  conv_pos_groups: 16,
  relative_position_embedding: false,
  num_buckets: 320,
  max_distance: 1280,
  gru_rel_pos: false,
  finetuned_model: false,
  predictor_class: 527,
};

/** The configuration of the released BEATs_iter3(+) checkpoints (Chen et al. 2022, BEATs); the benchmark and tests build it. */
export const BEATS_OFFICIAL: BeatsConfig = {
  ...BEATS_DEFAULTS,
  input_patch_size: 16,
  deep_norm: true,
  relative_position_embedding: true,
  num_buckets: 320,
  max_distance: 800,
  gru_rel_pos: true,
};

/** cfg keys the reference reads only during training; accepted with any value of the right kind. */
const TRAINING_ONLY_KEYS = new Set([
  'layer_wise_gradient_decay_ratio',
  'dropout',
  'attention_dropout',
  'activation_dropout',
  'encoder_layerdrop',
  'dropout_input',
  'predictor_dropout',
]);

/** BEATs consumes fixed 10 s clips: 998 fbank frames of 128 mel bins (docs/fbank.md, "API": beatsFbank). */
export const FBANK_FRAMES = 998;
export const FBANK_BINS = 128;

/** Sizes that follow from the configuration; computed once so the graph writer and the embedder agree. */
export interface BeatsGeometry {
  /** Patches along time (62 for patch 16) and along frequency (8). */
  patchesT: number;
  patchesF: number;
  tokens: number;
  headDim: number;
  /** Deep-norm residual scale α = (2·L)^¼, 1 without deep norm. */
  alpha: number;
}

/**
 * The cfg's widths under the names the shape formulas use: patch embedding E, encoder C, feed-forward F, heads H,
 * patch size p, positional-convolution kernel K.
 */
export interface BeatsDims {
  E: number;
  C: number;
  F: number;
  H: number;
  p: number;
  K: number;
}

export function beatsDims(cfg: BeatsConfig): BeatsDims {
  return {
    E: cfg.embed_dim,
    C: cfg.encoder_embed_dim,
    F: cfg.encoder_ffn_embed_dim,
    H: cfg.encoder_attention_heads,
    p: cfg.input_patch_size,
    K: cfg.conv_pos,
  };
}

export function beatsGeometry(cfg: BeatsConfig): BeatsGeometry {
  const p = cfg.input_patch_size;
  const patchesT = Math.floor((FBANK_FRAMES - p) / p) + 1;
  const patchesF = Math.floor((FBANK_BINS - p) / p) + 1;
  return {
    patchesT,
    patchesF,
    tokens: patchesT * patchesF,
    headDim: cfg.encoder_embed_dim / cfg.encoder_attention_heads,
    alpha: cfg.deep_norm ? Math.pow(2 * cfg.encoder_layers, 0.25) : 1,
  };
}

type Kind = 'int' | 'bool' | 'string';
const KINDS: Record<keyof BeatsConfig, Kind> = {
  input_patch_size: 'int',
  embed_dim: 'int',
  conv_bias: 'bool',
  encoder_layers: 'int',
  encoder_embed_dim: 'int',
  encoder_ffn_embed_dim: 'int',
  encoder_attention_heads: 'int',
  activation_fn: 'string',
  layer_norm_first: 'bool',
  deep_norm: 'bool',
  conv_pos: 'int',
  conv_pos_groups: 'int',
  relative_position_embedding: 'bool',
  num_buckets: 'int',
  max_distance: 'int',
  gru_rel_pos: 'bool',
  finetuned_model: 'bool',
  predictor_class: 'int',
};

/**
 * Plausible ranges of the integer fields, checked before anything is sized from them (a cfg of 10^6 layers would
 * otherwise build 2·10^7 expected keys and exhaust the heap). Wide enough for any BEATs variant: the released
 * checkpoints use 12 layers, width 768, FFN 3072, 12 heads, 320 buckets, 527 classes.
 */
const INT_RANGES: Partial<Record<keyof BeatsConfig, readonly [number, number]>> = {
  embed_dim: [1, 8192],
  encoder_layers: [1, 48],
  encoder_embed_dim: [1, 8192],
  encoder_ffn_embed_dim: [1, 32768],
  encoder_attention_heads: [1, 128],
  conv_pos: [1, 1024],
  conv_pos_groups: [1, 8192],
  num_buckets: [1, 8192],
  max_distance: [1, 1_000_000],
  predictor_class: [1, 1_000_000],
};

/** Largest model accepted, in parameters: ~10× the released BEATs (90 M), so every field can be at its maximum. */
export const MAX_BEATS_PARAMETERS = 2 ** 30;

function coerce(file: string, key: string, value: unknown, kind: Kind, isFloat: boolean): number | boolean | string {
  const shown =
    typeof value === 'bigint'
      ? value.toString()
      : isFloat && Number.isInteger(value)
        ? `${String(value)}.0`
        : JSON.stringify(value);
  const bad = (expected: string) =>
    fileError(file, `cfg.${key} is ${shown}${isFloat ? ' (a float)' : ''}, expected ${expected}`, 'BAD_INPUT', {
      field: `cfg.${key}`,
      expected,
    });
  switch (kind) {
    case 'int': {
      if (typeof value === 'bigint') {
        // beyond ±2^53: outside every range, and Number() would misstate it
        const expected = rangeText(key as keyof BeatsConfig) ?? 'a smaller integer';
        throw fileError(file, `cfg.${key} = ${shown}, expected ${expected}`, 'BAD_INPUT', {
          field: `cfg.${key}`,
          expected,
        });
      }
      if (isFloat || typeof value !== 'number' || !Number.isInteger(value)) throw bad('an integer');
      return value;
    }
    case 'bool':
      // The reference tests these with truthiness (`if cfg.deep_norm`, `gru_rel_pos == 1`), so 0/1 mean false/true.
      if (typeof value === 'boolean') return value;
      if (!isFloat && (value === 0 || value === 1 || value === 0n || value === 1n)) return Number(value) === 1;
      throw bad('true or false');
    case 'string':
      if (typeof value !== 'string') throw bad('a string');
      return value;
  }
}

function rangeText(key: keyof BeatsConfig): string | undefined {
  const range = INT_RANGES[key];
  return range ? `an integer from ${range[0]} to ${range[1]}` : undefined;
}

export interface ParsedBeatsConfig {
  config: BeatsConfig;
  /** cfg keys the reference does not know; it ignores them and so do we, but callers may report them. */
  unknownKeys: string[];
}

/**
 * Validates a checkpoint's cfg and fills the defaults. Options the graph writer does not implement are refused
 * here (UNSUPPORTED) rather than silently computing a different network. `floatKeys`: cfg keys whose Python value
 * was a float (the checkpoint reader reports them), refused where an integer is expected.
 */
export function parseBeatsConfig(
  cfg: Record<string, unknown>,
  file: string,
  floatKeys: Iterable<string> = [],
): ParsedBeatsConfig {
  const floats = new Set(floatKeys);
  const config: BeatsConfig = { ...BEATS_DEFAULTS };
  const unknownKeys: string[] = [];
  const writable = config as unknown as Record<string, number | boolean | string>;
  for (const [key, value] of Object.entries(cfg)) {
    if (Object.hasOwn(KINDS, key)) {
      writable[key] = coerce(file, key, value, KINDS[key as keyof BeatsConfig], floats.has(key));
    } else if (TRAINING_ONLY_KEYS.has(key)) {
      if (typeof value !== 'number' && typeof value !== 'bigint') {
        throw fileError(file, `cfg.${key} is ${JSON.stringify(value)}, expected a number`, 'BAD_INPUT', {
          field: `cfg.${key}`,
          expected: 'a number',
        });
      }
    } else {
      unknownKeys.push(key);
    }
  }

  const unsupported = (key: keyof BeatsConfig, why: string) =>
    fileError(file, `cfg.${key} = ${JSON.stringify(config[key])} is not supported: ${why}`, 'UNSUPPORTED', {
      field: `cfg.${key}`,
    });
  const invalid = (key: keyof BeatsConfig, expected: string) =>
    fileError(file, `cfg.${key} = ${JSON.stringify(config[key])}, expected ${expected}`, 'BAD_INPUT', {
      field: `cfg.${key}`,
      expected,
    });

  if (config.layer_norm_first) {
    throw unsupported(
      'layer_norm_first',
      'only the post-LayerNorm encoder of the released BEATs checkpoints is implemented',
    );
  }
  if (config.activation_fn !== 'gelu')
    throw unsupported('activation_fn', "only 'gelu' (exact erf form) is implemented");
  if (config.input_patch_size < 1 || config.input_patch_size > FBANK_BINS) {
    throw invalid('input_patch_size', `a patch size between 1 and ${FBANK_BINS} (the released checkpoints use 16)`);
  }
  for (const [key, [min, max]] of Object.entries(INT_RANGES) as [keyof BeatsConfig, readonly [number, number]][]) {
    const n = config[key] as number;
    if (n < min || n > max) throw invalid(key, `an integer from ${min} to ${max}`);
  }
  if (config.encoder_embed_dim % config.encoder_attention_heads !== 0) {
    throw invalid('encoder_attention_heads', `a divisor of encoder_embed_dim (${config.encoder_embed_dim})`);
  }
  if (config.encoder_embed_dim % config.conv_pos_groups !== 0) {
    throw invalid('conv_pos_groups', `a divisor of encoder_embed_dim (${config.encoder_embed_dim})`);
  }
  if (config.relative_position_embedding) {
    if (config.num_buckets < 4) throw invalid('num_buckets', 'at least 4');
    // The bucket formula divides by log(max_distance / max_exact) with max_exact = num_buckets / 4.
    if (config.max_distance <= Math.floor(Math.floor(config.num_buckets / 2) / 2)) {
      throw invalid('max_distance', `more than num_buckets / 4 (${Math.floor(config.num_buckets / 4)})`);
    }
  }
  const parameters = beatsParameterCount(config);
  if (parameters > MAX_BEATS_PARAMETERS) {
    throw fileError(
      file,
      `cfg describes a BEATs model of ${parameters} parameters (encoder_layers ${config.encoder_layers}, ` +
        `encoder_embed_dim ${config.encoder_embed_dim}, encoder_ffn_embed_dim ${config.encoder_ffn_embed_dim}), ` +
        `more than the ${MAX_BEATS_PARAMETERS} accepted (the released checkpoints have 90 million)`,
      'BAD_INPUT',
      { field: 'cfg', expected: `at most ${MAX_BEATS_PARAMETERS} parameters` },
    );
  }
  return { config, unknownKeys };
}

/**
 * Parameters of the encoder this cfg defines (the shapes stateDict.ts expects), computed from the fields alone so
 * that a cfg is judged before any per-layer list is built.
 */
export function beatsParameterCount(cfg: BeatsConfig): number {
  const { E, C, F, H, p, K } = beatsDims(cfg);
  const patch = E * p * p + (cfg.conv_bias ? E : 0) + 2 * E + (E !== C ? C * E + C : 0);
  const posConv = K + C * (C / cfg.conv_pos_groups) * K + C + 2 * C;
  const gru = cfg.gru_rel_pos ? 8 * (C / H) + 8 + H : 0;
  const attention = 4 * (C * C + C) + gru + (cfg.relative_position_embedding ? cfg.num_buckets * H : 0);
  const layer = attention + 2 * C + F * C + F + C * F + C + 2 * C;
  return patch + posConv + cfg.encoder_layers * layer;
}

/** Resolves a layer list against the network depth: 0 = encoder input (after pos-conv and LN), 1..L = blocks. */
export function checkLayers(layers: readonly number[], numLayers: number, what = 'layers'): number[] {
  if (layers.length === 0)
    throw new GenrepError(`${what}: at least one layer is required`, 'BAD_INPUT', { field: what });
  for (const layer of layers) {
    if (!Number.isInteger(layer) || layer < 0 || layer > numLayers) {
      throw new GenrepError(
        `${what}: layer ${layer} is out of range; this model has layers 1..${numLayers} (0 = encoder input)`,
        'BAD_INPUT',
        {
          field: what,
          expected: `integers 0..${numLayers}`,
        },
      );
    }
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}
