import { GenrepError } from '../errors';
import type { Pooling } from '../protocol/vocabulary';
import { float, GraphBuilder, int, ints } from '../onnx/graphBuilder';
import { TensorDataType } from '../onnx/proto';
import type { BeatsConfig } from './config';
import { beatsDims, beatsGeometry, checkLayers, FBANK_BINS, FBANK_FRAMES } from './config';
import { relativePositionBias } from './relativePosition';
import type { StateDict, WeightTensor } from './stateDict';

/** Bumped whenever the graph this module writes changes, so cached conversions are rebuilt. */
export const BEATS_GRAPH_VERSION = 1;
export const BEATS_OPSET = 17; // LayerNormalization

/** 'hidden' returns the [B, tokens, C] states themselves; a pooling returns [B, dim] vectors. */
export type BeatsOutput = 'hidden' | Pooling;

export interface BeatsGraphOptions {
  /** Layer indices 0..L; the graph stops after the largest. */
  layers: number[];
  output: BeatsOutput;
  /** Dynamic int8 quantisation of the encoder's linear layers (7-bit weights per output channel, uint8 activations). */
  quantize?: 'int8';
}

export const BEATS_INPUT = 'fbank';

export function beatsOutputName(layer: number, output: BeatsOutput): string {
  return output === 'hidden' ? `layer${layer}` : `layer${layer}_${output}`;
}

/** Per-clip length of one output, in floats. */
export function beatsOutputDim(cfg: BeatsConfig, output: BeatsOutput): number {
  const g = beatsGeometry(cfg);
  const C = cfg.encoder_embed_dim;
  switch (output) {
    case 'hidden':
      return g.tokens * C;
    case 'temporal':
      return g.patchesF * C;
    case 'spectral':
      return g.patchesT * C;
    case 'spatial':
      return C;
  }
}

function get(stateDict: StateDict, key: string): WeightTensor {
  const tensor = stateDict.get(key);
  if (!tensor) throw new GenrepError(`BEATs graph: weight ${key} missing (state dict not checked?)`, 'INTERNAL');
  return tensor;
}

/** [out, in] (torch Linear) → [in, out] (MatMul right operand), optionally scaled; tiled to stay in cache. */
function transposed(w: WeightTensor, scale = 1): Float32Array {
  const [rows, cols] = w.shape as [number, number];
  const out = new Float32Array(rows * cols);
  const src = w.data;
  const TILE = 64;
  // The state dict's shapes were checked (stateDict.ts), so src holds rows·cols floats: r < rows, c < cols.
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[r * cols + c]! * scale;
      }
    }
  }
  return out;
}

/**
 * weight_norm with dim=2 folded into a plain Conv1d weight: w = g · v / ‖v‖, the norm taken over output and input
 * channels separately for each kernel tap k (torch's norm_except_dim), no epsilon.
 */
export function foldWeightNorm(g: WeightTensor, v: WeightTensor): Float32Array {
  const [outCh, inCh, K] = v.shape as [number, number, number];
  // Shapes checked (stateDict.ts): v.data holds outCh·inCh·K floats and g.data K, so i·K + k and k are in bounds.
  const sumSq = new Float64Array(K);
  for (let i = 0; i < outCh * inCh; i++) {
    for (let k = 0; k < K; k++) sumSq[k]! += v.data[i * K + k]! ** 2;
  }
  const ratio = new Float32Array(K);
  for (let k = 0; k < K; k++) ratio[k] = g.data[k]! / Math.fround(Math.sqrt(sumSq[k]!));
  const w = new Float32Array(v.data.length);
  for (let i = 0; i < outCh * inCh; i++) {
    for (let k = 0; k < K; k++) w[i * K + k] = v.data[i * K + k]! * ratio[k]!;
  }
  return w;
}

/**
 * Writes the BEATs encoder (docs/beats.md, "The graph") as an ONNX graph: fbank [B, 998, 128] in, the requested layers' hidden
 * states or pooled vectors out. Weights go in as initializers, pre-arranged for the ops that read them (MatMul
 * right operands transposed, q/k/v fused, 1/√d folded into k, weight norm folded, the relative-position bias
 * gathered into one [1, H, N, N] constant), so the runtime does no layout work per clip.
 */
export function buildBeatsGraph(stateDict: StateDict, cfg: BeatsConfig, options: BeatsGraphOptions): GraphBuilder {
  const layers = checkLayers(options.layers, cfg.encoder_layers);
  const lastLayer = layers.at(-1);
  if (lastLayer === undefined) throw new GenrepError('BEATs graph: checkLayers returned no layer', 'INTERNAL');
  const geo = beatsGeometry(cfg);
  const { E, C, H, p } = beatsDims(cfg);
  const d = geo.headDim;
  const N = geo.tokens;
  const g = new GraphBuilder('beats');
  const quantize = options.quantize === 'int8';

  const shape = (name: string, dims: number[]) => g.int64Tensor(name, dims);
  const one = g.scalar('const/one', 1);
  const two = g.scalar('const/two', 2);
  const half = g.scalar('const/half', 0.5);
  const sqrt2 = g.scalar('const/sqrt2', Math.SQRT2);
  const alpha = geo.alpha !== 1 ? g.scalar('const/alpha', geo.alpha) : undefined;
  const axis1 = g.int64Tensor('const/axis1', [1]);
  const toTokens = shape('const/shape_heads', [0, 0, H, d]);
  const fromHeads = shape('const/shape_merge', [0, 0, C]);

  // x·σ-free exact GELU in the form ONNX Runtime's Gelu fusion recognises: 0.5·x·(1 + erf(x/√2)).
  const gelu = (x: string) =>
    g.op('Mul', [g.op('Mul', [x, g.op('Add', [g.op('Erf', [g.op('Div', [x, sqrt2])]), one])]), half]);

  const layerNorm = (x: string, prefix: string) =>
    g.op(
      'LayerNormalization',
      [
        x,
        g.floatTensor(`${prefix}.weight`, get(stateDict, `${prefix}.weight`).data, [
          get(stateDict, `${prefix}.weight`).data.length,
        ]),
        g.floatTensor(`${prefix}.bias`, get(stateDict, `${prefix}.bias`).data, [
          get(stateDict, `${prefix}.bias`).data.length,
        ]),
      ],
      {
        axis: int(-1),
        epsilon: float(1e-5),
      },
    );

  /** x [B, N, in] · Wᵀ + b; W given as [in, out] already. */
  const linear = (
    x: string,
    name: string,
    weightT: Float32Array,
    inDim: number,
    outDim: number,
    bias: Float32Array,
  ) => {
    const b = g.floatTensor(`${name}.bias`, bias, [outDim]);
    if (!quantize)
      return g.op('Add', [g.op('MatMul', [x, g.floatTensor(`${name}.weight_t`, weightT, [inDim, outDim])]), b]);
    return quantizedLinear(g, x, name, weightT, inDim, outDim, b);
  };

  // ---- patch embedding (docs/beats.md, "The graph") ----
  const fbank = g.input(BEATS_INPUT, TensorDataType.FLOAT, ['batch', FBANK_FRAMES, FBANK_BINS]);
  g.scope = 'patch';
  const image = g.op('Unsqueeze', [fbank, axis1]);
  const patchInputs = [
    image,
    g.floatTensor('patch_embedding.weight', get(stateDict, 'patch_embedding.weight').data, [E, 1, p, p]),
  ];
  if (cfg.conv_bias)
    patchInputs.push(g.floatTensor('patch_embedding.bias', get(stateDict, 'patch_embedding.bias').data, [E]));
  const patches = g.op('Conv', patchInputs, { kernel_shape: ints([p, p]), strides: ints([p, p]) }); // [B, E, T', F']
  // Token n = t·F' + f: flattening (T', F') in C order gives exactly that.
  const tokens = g.op('Transpose', [g.op('Reshape', [patches, shape('const/shape_patches', [0, E, N])])], {
    perm: ints([0, 2, 1]),
  });
  let x0 = layerNorm(tokens, 'layer_norm');
  if (E !== C) {
    x0 = linear(
      x0,
      'post_extract_proj',
      transposed(get(stateDict, 'post_extract_proj.weight')),
      E,
      C,
      get(stateDict, 'post_extract_proj.bias').data,
    );
  }

  // ---- convolutional positional embedding ----
  g.scope = 'pos_conv';
  const K = cfg.conv_pos;
  const posWeight = foldWeightNorm(
    get(stateDict, 'encoder.pos_conv.0.weight_g'),
    get(stateDict, 'encoder.pos_conv.0.weight_v'),
  );
  const channelsFirst = g.op('Transpose', [x0], { perm: ints([0, 2, 1]) });
  let conv = g.op(
    'Conv',
    [
      channelsFirst,
      g.floatTensor('encoder.pos_conv.weight', posWeight, [C, C / cfg.conv_pos_groups, K]),
      g.floatTensor('encoder.pos_conv.0.bias', get(stateDict, 'encoder.pos_conv.0.bias').data, [C]),
    ],
    { kernel_shape: ints([K]), pads: ints([Math.floor(K / 2), Math.floor(K / 2)]), group: int(cfg.conv_pos_groups) },
  );
  // SamePad: an even kernel with padding K/2 yields one extra step at the end, which the reference drops.
  if (K % 2 === 0)
    conv = g.op('Slice', [
      conv,
      g.int64Tensor('const/zero1', [0]),
      g.int64Tensor('const/tokens1', [N]),
      g.int64Tensor('const/axis2', [2]),
    ]);
  const posEmbedding = g.op('Transpose', [gelu(conv)], { perm: ints([0, 2, 1]) });
  let h = layerNorm(g.op('Add', [x0, posEmbedding]), 'encoder.layer_norm');

  const outputs: Array<{ layer: number; value: string }> = [];
  if (layers.includes(0)) outputs.push({ layer: 0, value: h });

  // ---- relative position bias, from layer 0's table, shared by all layers ----
  let relBias: string | undefined;
  if (cfg.relative_position_embedding) {
    const table = get(stateDict, 'encoder.layers.0.self_attn.relative_attention_bias.weight');
    relBias = g.floatTensor('relative_position_bias', relativePositionBias(table, N, cfg.max_distance), [1, H, N, N]);
  }

  // ---- transformer blocks (post-LN, deep norm) ----
  for (let i = 0; i < lastLayer; i++) {
    g.scope = `layer${i + 1}`;
    const a = `encoder.layers.${i}.self_attn`;
    const l = `encoder.layers.${i}`;
    // q, k, v fused into one [C, 3C] product; the attention scale 1/√d is folded into k (exact for d = 64 or 16).
    const scaling = 1 / Math.sqrt(d);
    const qkvWeight = new Float32Array(C * 3 * C);
    const qkvBias = new Float32Array(3 * C);
    (['q_proj', 'k_proj', 'v_proj'] as const).forEach((proj, slot) => {
      const scale = proj === 'k_proj' ? scaling : 1;
      const wT = transposed(get(stateDict, `${a}.${proj}.weight`), scale);
      for (let r = 0; r < C; r++) qkvWeight.set(wT.subarray(r * C, (r + 1) * C), r * 3 * C + slot * C);
      const bias = get(stateDict, `${a}.${proj}.bias`).data; // [C], shape checked (stateDict.ts)
      for (let c = 0; c < C; c++) qkvBias[slot * C + c] = bias[c]! * scale;
    });
    const qkv = linear(h, `${a}.qkv`, qkvWeight, C, 3 * C, qkvBias);
    const [q, k, v] = tripleOf(
      g.opMulti('Split', [qkv, g.int64Tensor(`${a}.split`, [C, C, C])], { axis: int(2) }, { outputs: 3 }),
    );
    const heads = (t: string, perm: number[]) =>
      g.op('Transpose', [g.op('Reshape', [t, toTokens])], { perm: ints(perm) });
    const qh = heads(q, [0, 2, 1, 3]); // [B, H, N, d]
    const khT = heads(k, [0, 2, 3, 1]); // [B, H, d, N]
    const vh = heads(v, [0, 2, 1, 3]);
    let logits = g.op('MatMul', [qh, khT]); // [B, H, N, N]

    if (relBias) {
      let bias = relBias;
      if (cfg.gru_rel_pos) {
        // The gate sums grep_linear's outputs in two groups of four; summing the weight rows instead is the same map.
        const grepW = get(stateDict, `${a}.grep_linear.weight`).data;
        const grepB = get(stateDict, `${a}.grep_linear.bias`).data;
        // Shapes checked (stateDict.ts): grep_linear.weight is [8, d] and its bias [8]; j < d.
        const gateW = new Float32Array(d * 2);
        for (let j = 0; j < d; j++) {
          gateW[j * 2] = grepW[0 * d + j]! + grepW[1 * d + j]! + grepW[2 * d + j]! + grepW[3 * d + j]!;
          gateW[j * 2 + 1] = grepW[4 * d + j]! + grepW[5 * d + j]! + grepW[6 * d + j]! + grepW[7 * d + j]!;
        }
        const gateB = Float32Array.of(
          grepB[0]! + grepB[1]! + grepB[2]! + grepB[3]!,
          grepB[4]! + grepB[5]! + grepB[6]! + grepB[7]!,
        );
        const z = g.op('Add', [
          g.op('MatMul', [qh, g.floatTensor(`${a}.gate.weight`, gateW, [d, 2])]),
          g.floatTensor(`${a}.gate.bias`, gateB, [2]),
        ]);
        const [gateA, gateB2] = pairOf(
          g.opMulti(
            'Split',
            [g.op('Sigmoid', [z]), g.int64Tensor(`${a}.gate.split`, [1, 1])],
            { axis: int(3) },
            { outputs: 2 },
          ),
        );
        const grepA = g.floatTensor(`${a}.grep_a`, get(stateDict, `${a}.grep_a`).data, [1, H, 1, 1]);
        // gate = g_a · (g_b · grep_a − 1) + 2, one value per head and query: [B, H, N, 1].
        const gate = g.op('Add', [g.op('Mul', [gateA, g.op('Sub', [g.op('Mul', [gateB2, grepA]), one])]), two]);
        bias = g.op('Mul', [gate, relBias]);
      }
      logits = g.op('Add', [logits, bias]);
    }
    const attention = g.op('Softmax', [logits], { axis: int(-1) });
    const context = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [attention, vh])], { perm: ints([0, 2, 1, 3]) }),
      fromHeads,
    ]);
    const attnOut = linear(
      context,
      `${a}.out_proj`,
      transposed(get(stateDict, `${a}.out_proj.weight`)),
      C,
      C,
      get(stateDict, `${a}.out_proj.bias`).data,
    );
    const residual = (x: string) => (alpha ? g.op('Mul', [x, alpha]) : x);
    h = layerNorm(g.op('Add', [residual(h), attnOut]), `${l}.self_attn_layer_norm`);

    const F = cfg.encoder_ffn_embed_dim;
    const hidden = gelu(
      linear(h, `${l}.fc1`, transposed(get(stateDict, `${l}.fc1.weight`)), C, F, get(stateDict, `${l}.fc1.bias`).data),
    );
    const ffn = linear(
      hidden,
      `${l}.fc2`,
      transposed(get(stateDict, `${l}.fc2.weight`)),
      F,
      C,
      get(stateDict, `${l}.fc2.bias`).data,
    );
    h = layerNorm(g.op('Add', [residual(h), ffn]), `${l}.final_layer_norm`);
    if (layers.includes(i + 1)) outputs.push({ layer: i + 1, value: h });
  }

  // ---- outputs ----
  g.scope = 'outputs';
  for (const { layer, value } of outputs) {
    const name = beatsOutputName(layer, options.output);
    if (options.output === 'hidden') {
      g.op('Identity', [value], {}, { outputs: [name] });
      g.output(name, TensorDataType.FLOAT, ['batch', N, C]);
      continue;
    }
    let pooled: string;
    if (options.output === 'spatial') {
      pooled = g.op('ReduceMean', [value], { axes: ints([1]), keepdims: int(0) });
    } else {
      const grid = g.op('Reshape', [value, shape(`const/shape_grid_${layer}`, [0, geo.patchesT, geo.patchesF, C])]);
      // temporal: mean over T' → [B, F', C]; spectral: mean over F' → [B, T', C].
      pooled = g.op('ReduceMean', [grid], { axes: ints([options.output === 'temporal' ? 1 : 2]), keepdims: int(0) });
    }
    g.op('Reshape', [pooled, shape(`const/shape_flat_${layer}`, [0, -1])], {}, { outputs: [name] });
    g.output(name, TensorDataType.FLOAT, ['batch', beatsOutputDim(cfg, options.output)]);
  }
  return g;
}

/**
 * Linear layer with int8 weights (symmetric, per output channel) and dynamically quantised uint8 activations:
 * DynamicQuantizeLinear → MatMulInteger → Cast → × (x_scale · w_scale) → + bias. ONNX Runtime fuses this chain
 * into its DynamicQuantizeMatMul kernel.
 */
const WEIGHT_LEVELS = 63;

function quantizedLinear(
  g: GraphBuilder,
  x: string,
  name: string,
  weightT: Float32Array,
  inDim: number,
  outDim: number,
  bias: string,
): string {
  const scales = new Float32Array(outDim);
  const q = new Int8Array(weightT.length);
  // weightT is [inDim, outDim]: r·outDim + o < inDim·outDim for r < inDim, o < outDim.
  for (let o = 0; o < outDim; o++) {
    let maxAbs = 0;
    for (let r = 0; r < inDim; r++) maxAbs = Math.max(maxAbs, Math.abs(weightT[r * outDim + o]!));
    // 7-bit weights (±63, ONNX Runtime's "reduce range"): on AVX2 CPUs without VNNI the u8·s8 kernel adds pairs
    // of products in int16, which 255·127·2 would overflow; 255·63·2 cannot.
    const scale = maxAbs > 0 ? maxAbs / WEIGHT_LEVELS : 1;
    scales[o] = scale;
    for (let r = 0; r < inDim; r++) q[r * outDim + o] = Math.round(weightT[r * outDim + o]! / scale);
  }
  const [xq, xScale, xZero] = tripleOf(g.opMulti('DynamicQuantizeLinear', [x], {}, { outputs: 3 }));
  const w = g.int8Tensor(`${name}.weight_q`, q, [inDim, outDim]);
  const wZero = g.int8Tensor(`${name}.weight_zero`, new Int8Array(1), []);
  const acc = g.op('MatMulInteger', [xq, w, xZero, wZero]);
  const scale = g.op('Mul', [xScale, g.floatTensor(`${name}.weight_scale`, scales, [outDim])]);
  return g.op('Add', [g.op('Mul', [g.op('Cast', [acc], { to: int(TensorDataType.FLOAT) }), scale]), bias]);
}

/** The outputs of a two- or three-output op (opMulti returns exactly as many as it was asked for). */
function pairOf(outputs: readonly string[]): [string, string] {
  const [first, second] = outputs;
  if (first === undefined || second === undefined)
    throw new GenrepError('BEATs graph: an op lost an output', 'INTERNAL');
  return [first, second];
}

function tripleOf(outputs: readonly string[]): [string, string, string] {
  const [first, second, third] = outputs;
  if (first === undefined || second === undefined || third === undefined)
    throw new GenrepError('BEATs graph: an op lost an output', 'INTERNAL');
  return [first, second, third];
}
