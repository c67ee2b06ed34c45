import { GenrepError } from '../errors';
import type {
  AttributeProtoInit,
  DimInit,
  ModelProtoInit,
  NodeProtoInit,
  TensorDataTypeCode,
  TensorProtoInit,
  ValueInfoProtoInit,
} from './proto';
import { AttributeType, encodeModel, encodeModelParts, TensorDataType, valueInfo } from './proto';

/** Attribute values are tagged because ONNX distinguishes int from float attributes and JS numbers do not. */
export type Attr =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string };
export const int = (value: number): Attr => ({ int: value });
export const float = (value: number): Attr => ({ float: value });
export const ints = (values: readonly number[]): Attr => ({ ints: values });

export interface OpOptions {
  /** Names for the outputs; defaults to generated unique names. A number asks for that many generated outputs. */
  outputs?: readonly string[] | number;
  domain?: string;
}

/**
 * Platforms Node runs on are little-endian, which is what ONNX raw_data requires. A Buffer view (no copy) rather
 * than a Uint8Array because protobufjs copies Buffers with memcpy but other byte arrays one byte at a time.
 */
function bytesOf(view: ArrayBufferView): Uint8Array {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function toAttribute(name: string, value: Attr): AttributeProtoInit {
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  return { name, type: AttributeType.STRING, s: Buffer.from(value.string, 'utf8') };
}

/**
 * Collects nodes and initializers in topological order (callers add a node only after its inputs exist) and turns
 * them into a ModelProto. Value names are checked for uniqueness because ONNX Runtime's error for a duplicate is far
 * from the line that caused it.
 */
export class GraphBuilder {
  private readonly nodes: NodeProtoInit[] = [];
  private readonly initializers: TensorProtoInit[] = [];
  private readonly inputs: ValueInfoProtoInit[] = [];
  private readonly outputs: ValueInfoProtoInit[] = [];
  private readonly values = new Set<string>();
  private counter = 0;
  /** Prefix for generated names, so a graph dump reads by block ("layer3/MatMul_17"). */
  scope = '';

  constructor(readonly name: string) {}

  private claim(name: string): string {
    if (this.values.has(name)) throw new GenrepError(`ONNX graph: value name '${name}' used twice`, 'INTERNAL');
    this.values.add(name);
    return name;
  }

  fresh(base: string): string {
    this.counter += 1;
    return `${this.scope ? `${this.scope}/` : ''}${base}_${this.counter}`;
  }

  input(name: string, elemType: TensorDataTypeCode, dims: readonly DimInit[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  output(name: string, elemType: TensorDataTypeCode, dims: readonly DimInit[]): void {
    if (!this.values.has(name))
      throw new GenrepError(`ONNX graph: output '${name}' is not produced by any node`, 'INTERNAL');
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  private initializer(
    name: string,
    dataType: TensorDataTypeCode,
    dims: readonly number[],
    raw: Uint8Array,
    count: number,
  ): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== count) {
      throw new GenrepError(
        `ONNX graph: initializer '${name}' has ${count} values for shape [${dims.join(', ')}]`,
        'INTERNAL',
      );
    }
    this.initializers.push({ name: this.claim(name), dims: [...dims], data_type: dataType, raw_data: raw });
    return name;
  }

  floatTensor(name: string, data: Float32Array, dims: readonly number[]): string {
    return this.initializer(name, TensorDataType.FLOAT, dims, bytesOf(data), data.length);
  }

  int64Tensor(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.initializer(name, TensorDataType.INT64, dims, bytesOf(data), data.length);
  }

  int8Tensor(name: string, data: Int8Array, dims: readonly number[]): string {
    return this.initializer(name, TensorDataType.INT8, dims, bytesOf(data), data.length);
  }

  uint8Tensor(name: string, data: Uint8Array, dims: readonly number[]): string {
    return this.initializer(name, TensorDataType.UINT8, dims, bytesOf(data), data.length);
  }

  /** A rank-0 float constant (broadcasts against anything). */
  scalar(name: string, value: number): string {
    return this.floatTensor(name, Float32Array.of(value), []);
  }

  /** Adds a node with one output and returns that output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, options: OpOptions = {}): string {
    return this.opMulti(opType, inputs, attrs, options)[0]!;
  }

  opMulti(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, Attr> = {},
    options: OpOptions = {},
  ): string[] {
    for (const input of inputs) {
      // '' is ONNX's "optional input omitted".
      if (input !== '' && !this.values.has(input)) {
        throw new GenrepError(`ONNX graph: ${opType} reads '${input}' before anything produces it`, 'INTERNAL');
      }
    }
    const requested = options.outputs ?? 1;
    const outputs =
      typeof requested === 'number' ? Array.from({ length: requested }, () => this.fresh(opType)) : [...requested];
    for (const output of outputs) this.claim(output);
    this.nodes.push({
      name: this.fresh(`${opType}_node`),
      op_type: opType,
      ...(options.domain ? { domain: options.domain } : {}),
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([key, value]) => toAttribute(key, value)),
    });
    return outputs;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  toModel(options: {
    opsets: Array<{ domain: string; version: number }>;
    producerVersion: string;
    docString?: string;
    metadata?: Record<string, string>;
  }): ModelProtoInit {
    return {
      // IR 8 is what opset 17 requires and what every ONNX Runtime since 1.10 reads.
      ir_version: 8,
      opset_import: options.opsets,
      producer_name: 'genrep',
      producer_version: options.producerVersion,
      ...(options.docString ? { doc_string: options.docString } : {}),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
  }

  encode(options: Parameters<GraphBuilder['toModel']>[0]): Uint8Array {
    return encodeModel(this.toModel(options));
  }

  encodeParts(options: Parameters<GraphBuilder['toModel']>[0]): Uint8Array[] {
    return encodeModelParts(this.toModel(options));
  }
}
