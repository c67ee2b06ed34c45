import type { BeatsConfig } from './config';
import { parseBeatsConfig } from './config';
import type { BeatsGraphOptions } from './graph';
import { BEATS_GRAPH_VERSION, BEATS_OPSET, buildBeatsGraph } from './graph';
import type { StateDict } from './stateDict';
import { checkStateDict } from './stateDict';

/** What a checkpoint contributes to a conversion (the checkpoint reader's Checkpoint satisfies this). */
export interface BeatsWeights {
  file: string;
  cfg: Record<string, unknown>;
  tensors: StateDict;
  sha256?: string;
  /** cfg keys whose Python value was a float (the checkpoint reader reports them). */
  cfgFloatKeys?: readonly string[];
}

export interface ConvertedBeats {
  /** The serialized ModelProto as chunks whose concatenation is the file (see encodeModelParts). */
  parts: Uint8Array[];
  config: BeatsConfig;
  unknownCfgKeys: string[];
}

/** Checks cfg and state dict, naming the offending key or option on failure. */
export function validateBeats(weights: BeatsWeights): { config: BeatsConfig; unknownCfgKeys: string[] } {
  const { config, unknownKeys } = parseBeatsConfig(weights.cfg, weights.file, weights.cfgFloatKeys);
  checkStateDict(weights.tensors, config, weights.file);
  return { config, unknownCfgKeys: unknownKeys };
}

/** Validates, then writes the ONNX graph for the requested layers and output. */
export function convertBeats(weights: BeatsWeights, options: BeatsGraphOptions): ConvertedBeats {
  const { config, unknownCfgKeys } = validateBeats(weights);
  const graph = buildBeatsGraph(weights.tensors, config, options);
  const metadata: Record<string, string> = {
    'genrep.kind': 'beats',
    'genrep.graph_version': String(BEATS_GRAPH_VERSION),
    'genrep.layers': options.layers.join(','),
    'genrep.output': options.output,
    'genrep.quantize': options.quantize ?? 'none',
    'genrep.cfg': JSON.stringify(config),
  };
  if (weights.sha256) metadata['genrep.checkpoint_sha256'] = weights.sha256;
  const parts = graph.encodeParts({
    opsets: [{ domain: '', version: BEATS_OPSET }],
    producerVersion: `beats-graph-${BEATS_GRAPH_VERSION}`,
    docString:
      'BEATs encoder (Chen et al. 2022) converted by GenRep from a PyTorch checkpoint; input: normalised fbank [B, 998, 128].',
    metadata,
  });
  return { parts, config, unknownCfgKeys };
}

/** The whole model in one buffer, for handing straight to ONNX Runtime. */
export function convertBeatsToBytes(weights: BeatsWeights, options: BeatsGraphOptions): Uint8Array {
  return Buffer.concat(convertBeats(weights, options).parts);
}
