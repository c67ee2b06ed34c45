import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { onnx } from 'onnx-proto';
import { GenrepError } from '../errors';

/**
 * What `genrep model inspect` and descriptor matching need from an ONNX file: its inputs, outputs, opsets and
 * producer. Read field by field from the file with positioned reads, skipping the graph's nodes and initializers, so
 * a 1 GB export is inspected without its weights ever being in memory.
 */

export interface TensorSignature {
  name: string;
  /** ONNX element type name ('float32', 'int64', …). */
  dtype: string;
  /** Fixed sizes as numbers, symbolic dims as their names, unknown dims as '?'. Undefined: no shape recorded. */
  shape?: (number | string)[];
}

export interface OnnxSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  opsets: { domain: string; version: number }[];
  producer: string;
  irVersion: number;
}

const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

// onnx.proto field numbers: ModelProto and GraphProto.
const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8 } as const;
const GRAPH = { input: 11, output: 12 } as const;

/** Sequential reads of a file through a small buffer; `skip` moves past bytes without reading them. */
class FileCursor {
  private readonly buffer = Buffer.alloc(1 << 16);
  private bufferStart = 0;
  private bufferEnd = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly file: string,
  ) {}

  private byte(): number {
    if (this.pos >= this.bufferEnd || this.pos < this.bufferStart) {
      this.bufferStart = this.pos;
      this.bufferEnd = this.pos + readSync(this.fd, this.buffer, 0, this.buffer.length, this.pos);
      if (this.bufferEnd <= this.pos) throw this.truncated();
    }
    const value = this.buffer[this.pos - this.bufferStart]!;
    this.pos += 1;
    return value;
  }

  truncated(): GenrepError {
    return new GenrepError(
      `${this.file}: not an ONNX model (protobuf ends inside a field at byte ${this.pos})`,
      'BAD_INPUT',
      {
        file: this.file,
      },
    );
  }

  /** A varint as a JS number: exact up to 2^53, enough for every length and field in a model file. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i += 1) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new GenrepError(`${this.file}: not an ONNX model (malformed varint at byte ${this.pos})`, 'BAD_INPUT', {
      file: this.file,
    });
  }

  bytes(length: number): Uint8Array {
    if (this.pos + length > this.size) throw this.truncated();
    const out = Buffer.alloc(length);
    readSync(this.fd, out, 0, length, this.pos);
    this.pos += length;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) {
      // The length first: `this.pos += this.varint()` would add it to the position before the varint was read.
      const length = this.varint();
      this.pos += length;
    } else if (wireType === 5) this.pos += 4;
    else
      throw new GenrepError(
        `${this.file}: not an ONNX model (wire type ${wireType} at byte ${this.pos})`,
        'BAD_INPUT',
        {
          file: this.file,
        },
      );
    if (this.pos > this.size) throw this.truncated();
  }
}

function tensorSignature(info: onnx.ValueInfoProto): TensorSignature {
  const tensor = info.type?.tensorType;
  const dtype = ELEM_TYPES[tensor?.elemType ?? 0] ?? `type ${tensor?.elemType ?? '?'}`;
  if (!tensor?.shape) return { name: info.name, dtype };
  const shape = (tensor.shape.dim ?? []).map((d): number | string => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== undefined && d.dimValue !== null) {
      const value = Number(d.dimValue);
      // ONNX writes 0 for "no value" in some exporters; a fixed 0-size axis never occurs in a model's signature.
      return value > 0 ? value : '?';
    }
    return '?';
  });
  return { name: info.name, dtype, shape };
}

export function readOnnxSignature(file: string): OnnxSignature {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new GenrepError(`${file}: cannot open (${(err as Error).message})`, 'NOT_FOUND', { file });
  }
  try {
    const cursor = new FileCursor(fd, fstatSync(fd).size, file);
    const out: OnnxSignature = { inputs: [], outputs: [], opsets: [], producer: '', irVersion: 0 };
    let producerName = '';
    let producerVersion = '';
    let sawGraph = false;
    while (cursor.pos < cursor.size) {
      const tag = cursor.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === MODEL.irVersion && wire === 0) out.irVersion = cursor.varint();
      else if (field === MODEL.producerName && wire === 2)
        producerName = Buffer.from(cursor.bytes(cursor.varint())).toString('utf8');
      else if (field === MODEL.producerVersion && wire === 2)
        producerVersion = Buffer.from(cursor.bytes(cursor.varint())).toString('utf8');
      else if (field === MODEL.opsetImport && wire === 2) {
        const opset = onnx.OperatorSetIdProto.decode(cursor.bytes(cursor.varint()));
        out.opsets.push({ domain: opset.domain || 'ai.onnx', version: Number(opset.version) });
      } else if (field === MODEL.graph && wire === 2) {
        sawGraph = true;
        // Several graph fields merge (protobuf semantics; our own writer emits one per initializer).
        const end = cursor.varint() + cursor.pos;
        if (end > cursor.size) throw cursor.truncated();
        while (cursor.pos < end) {
          const graphTag = cursor.varint();
          const graphField = Math.floor(graphTag / 8);
          const graphWire = graphTag & 7;
          if ((graphField === GRAPH.input || graphField === GRAPH.output) && graphWire === 2) {
            const info = tensorSignature(onnx.ValueInfoProto.decode(cursor.bytes(cursor.varint())));
            (graphField === GRAPH.input ? out.inputs : out.outputs).push(info);
          } else cursor.skip(graphWire);
        }
      } else cursor.skip(wire);
    }
    if (!sawGraph || out.irVersion === 0)
      throw new GenrepError(`${file}: not an ONNX model (no ${sawGraph ? 'ir_version' : 'graph'} field)`, 'BAD_INPUT', {
        file,
      });
    out.producer = producerVersion ? `${producerName} ${producerVersion}` : producerName;
    return out;
  } finally {
    closeSync(fd);
  }
}
