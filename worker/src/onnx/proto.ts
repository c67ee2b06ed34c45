import { onnx } from 'onnx-proto';
import { Reader } from 'protobufjs/minimal';
import { GenrepError } from '../errors';

/**
 * The ONNX ModelProto, encoded by `onnx-proto`: the official onnx.proto3 definitions compiled to protobufjs code (a
 * registry package, so field numbers and types come from the definition, not from hand-written constants, and no
 * copy of the schema lives in this repository). onnx-proto's code uses camelCase field names; the init types below
 * keep the proto's own snake_case names (as the ONNX spec and every other tool spell them), converted at the
 * boundary.
 */

export const TensorDataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
export type TensorDataTypeCode = (typeof TensorDataType)[keyof typeof TensorDataType];

export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorProtoInit {
  name: string;
  dims: number[];
  data_type: TensorDataTypeCode;
  /** Little-endian element bytes, C order. */
  raw_data: Uint8Array;
}

export interface AttributeProtoInit {
  name: string;
  type: (typeof AttributeType)[keyof typeof AttributeType];
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProtoInit;
  floats?: number[];
  ints?: number[];
}

export interface NodeProtoInit {
  name: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeProtoInit[];
}

/** A dimension is a fixed size or a symbolic name (a free dimension such as the batch). */
export type DimInit = number | string;

export interface ValueInfoProtoInit {
  name: string;
  type: {
    tensor_type: {
      elem_type: TensorDataTypeCode;
      shape: { dim: Array<{ dim_value: number } | { dim_param: string }> };
    };
  };
}

export interface GraphProtoInit {
  name: string;
  node: NodeProtoInit[];
  initializer: TensorProtoInit[];
  input: ValueInfoProtoInit[];
  output: ValueInfoProtoInit[];
  doc_string?: string;
}

export interface ModelProtoInit {
  ir_version: number;
  opset_import: Array<{ domain: string; version: number }>;
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProtoInit;
  metadata_props: Array<{ key: string; value: string }>;
}

/** snake_case keys (the proto's names) → camelCase (onnx-proto's); bytes and typed arrays pass through uncopied. */
function toCamel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCamel);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = toCamel(v);
  return out;
}

function toSnake(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSnake);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = toSnake(v);
  return out;
}

/** The codec callers need, taking the snake_case init objects. */
export interface ModelCodec {
  verify(model: unknown): string | null;
  fromObject(model: unknown): unknown;
  encode(model: unknown): { finish(): Uint8Array };
}

const codec: ModelCodec = {
  verify: (model) => onnx.ModelProto.verify(toCamel(model) as Record<string, unknown>),
  fromObject: (model) => onnx.ModelProto.fromObject(toCamel(model) as Record<string, unknown>),
  // fromObject output is already camelCase and must not be converted again.
  encode: (model) =>
    onnx.ModelProto.encode((model instanceof onnx.ModelProto ? model : toCamel(model)) as onnx.IModelProto),
};

export function modelProtoType(): ModelCodec {
  return codec;
}

/**
 * Serializes a model as a list of byte chunks whose concatenation is the ModelProto. The first chunk holds
 * everything but the initializers; each further chunk is a ModelProto holding only `graph { initializer: [t] }`.
 * Protobuf parsers merge a repeated singular message field and append repeated fields, so the concatenation
 * decodes as one graph with all initializers. This keeps each protobufjs encode small: encoding a 350 MB model
 * in one piece makes protobufjs grow and re-copy its buffer through every nesting level (seconds instead of
 * milliseconds), and the chunks can be written to disk without one contiguous copy of the whole model.
 */
export function encodeModelParts(model: ModelProtoInit): Uint8Array[] {
  const type = modelProtoType();
  // verify() catches a misnamed field early; encode() itself would silently drop it.
  const problem = type.verify(model);
  if (problem) throw new GenrepError(`ONNX writer produced an invalid ModelProto: ${problem}`, 'INTERNAL');
  const head = type.encode({ ...model, graph: { ...model.graph, initializer: [] } }).finish();
  const parts: Uint8Array[] = [head];
  for (const tensor of model.graph.initializer) parts.push(type.encode({ graph: { initializer: [tensor] } }).finish());
  return parts;
}

export function encodeModel(model: ModelProtoInit): Uint8Array {
  return Buffer.concat(encodeModelParts(model));
}

/** Decodes a ModelProto (tests and inspection; not used on the hot path because it materialises every tensor). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const model = onnx.ModelProto.decode(bytes);
  // Protobuf merges a singular message field that occurs more than once (our chunked encoding relies on it, and
  // ONNX Runtime's C++ parser does it); protobufjs keeps only the last occurrence, so merge the graphs here.
  const graphs: onnx.GraphProto[] = [];
  const reader = Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === MODEL_GRAPH_FIELD && (tag & 7) === 2) graphs.push(onnx.GraphProto.decode(reader.bytes()));
    else reader.skipType(tag & 7);
  }
  if (graphs.length > 1) {
    const merged = graphs[0]!;
    for (const g of graphs.slice(1)) {
      for (const field of [
        'node',
        'initializer',
        'input',
        'output',
        'valueInfo',
        'sparseInitializer',
        'quantizationAnnotation',
      ] as const) {
        (merged[field] as unknown[]) = [...((merged[field] as unknown[]) ?? []), ...((g[field] as unknown[]) ?? [])];
      }
      if (g.name) merged.name = g.name;
    }
    model.graph = merged;
  }
  return toSnake(onnx.ModelProto.toObject(model, { longs: Number, defaults: false })) as Record<string, unknown>;
}

/** ModelProto.graph's field number in onnx.proto. */
const MODEL_GRAPH_FIELD = 7;

export function valueInfo(name: string, elemType: TensorDataTypeCode, dims: readonly DimInit[]): ValueInfoProtoInit {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}
