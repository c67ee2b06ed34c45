/**
 * A minimal WebAssembly binary writer: just what the fbank kernel generator needs (one memory, i32 and v128
 * locals, straight-line SIMD code, exported functions). Opcodes follow the WebAssembly core spec 2.0 binary format
 * (https://webassembly.github.io/spec/core/binary/instructions.html); SIMD ones carry the 0xfd prefix and a LEB128
 * sub-opcode. test/fbank/wasmEncoder.test.ts checks each op's meaning against JavaScript arithmetic.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;

/** SIMD sub-opcodes (after the 0xfd prefix). */
export const Simd = {
  load: 0x00,
  load64Splat: 0x0a,
  store: 0x0b,
  const: 0x0c,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2Gt: 0x4a,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  load64Lane: 0x57,
  store32Lane: 0x5a,
  load64Zero: 0x5d,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  i64x2ShrU: 0xcd,
  f64x2Neg: 0xed,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Max: 0xf5,
} as const;

/** A growable byte array: code for a 512-point kernel runs to a few hundred kilobytes, too many for number[]. */
export class ByteBuffer {
  private data = new Uint8Array(1024);
  length = 0;

  push(...bytes: number[]): void {
    for (const b of bytes) this.byte(b);
  }

  byte(b: number): void {
    if (this.length === this.data.length) {
      const bigger = new Uint8Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = b;
  }

  append(bytes: Uint8Array): void {
    while (this.length + bytes.length > this.data.length) {
      const bigger = new Uint8Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data.set(bytes, this.length);
    this.length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.data.subarray(0, this.length);
  }
}

export function unsignedLeb(value: number, out: ByteBuffer): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.byte(byte);
  } while (v !== 0);
}

export function signedLeb(value: number, out: ByteBuffer): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.byte(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** One function body under construction: instructions appended in stack-machine order. */
export class FunctionBody {
  readonly bytes = new ByteBuffer();
  private readonly localTypes: number[] = [];

  constructor(readonly params: readonly number[]) {}

  /** Declares a local of `type` and returns its index (parameters come first). */
  local(type: number): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** An instruction without immediates. */
  private op(opcode: number): this {
    this.bytes.byte(opcode);
    return this;
  }

  /** An instruction whose one immediate is unsigned LEB128 (a local index, a branch depth, a SIMD sub-opcode). */
  private withIndex(opcode: number, index: number): this {
    this.bytes.byte(opcode);
    unsignedLeb(index, this.bytes);
    return this;
  }

  localGet(index: number): this {
    return this.withIndex(0x20, index);
  }

  localSet(index: number): this {
    return this.withIndex(0x21, index);
  }

  localTee(index: number): this {
    return this.withIndex(0x22, index);
  }

  /** `loop` with no result; close it with end(). */
  loop(): this {
    this.bytes.push(0x03, 0x40);
    return this;
  }

  /** Branch to the enclosing block `depth` levels out (0 = innermost; for a loop, its start) if the i32 on top is non-zero. */
  brIf(depth: number): this {
    return this.withIndex(0x0d, depth);
  }

  end(): this {
    return this.op(0x0b);
  }

  i32Add(): this {
    return this.op(0x6a);
  }

  i32LtU(): this {
    return this.op(0x49);
  }

  i32Const(value: number): this {
    this.bytes.byte(0x41);
    signedLeb(value, this.bytes);
    return this;
  }

  /** A SIMD instruction without immediates: the 0xfd prefix, then the sub-opcode as unsigned LEB128. */
  simd(op: number): this {
    return this.withIndex(0xfd, op);
  }

  /** A SIMD memory instruction: alignment hint (log2 bytes) and a constant byte offset added to the address operand. */
  simdMem(op: number, alignLog2: number, offset: number, lane?: number): this {
    this.simd(op);
    unsignedLeb(alignLog2, this.bytes);
    unsignedLeb(offset, this.bytes);
    if (lane !== undefined) this.bytes.byte(lane);
    return this;
  }

  simdLane(op: number, lane: number): this {
    this.simd(op);
    this.bytes.byte(lane);
    return this;
  }

  v128Const(bytes: Uint8Array): this {
    this.simd(Simd.const);
    this.bytes.append(bytes);
    return this;
  }

  /** The function's code entry: size, local declarations (run-length grouped), body, `end`. */
  encode(out: ByteBuffer): void {
    const head = new ByteBuffer();
    const groups: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    unsignedLeb(groups.length, head);
    for (const [count, type] of groups) {
      unsignedLeb(count, head);
      head.byte(type);
    }
    unsignedLeb(head.length + this.bytes.length + 1, out);
    out.append(head.bytes());
    out.append(this.bytes.bytes());
    out.byte(0x0b);
  }
}

export interface ExportedFunction {
  name: string;
  body: FunctionBody;
}

function section(id: number, payload: ByteBuffer, out: ByteBuffer): void {
  out.byte(id);
  unsignedLeb(payload.length, out);
  out.append(payload.bytes());
}

function name(text: string, out: ByteBuffer): void {
  const bytes = Buffer.from(text, 'utf8');
  unsignedLeb(bytes.length, out);
  out.append(bytes);
}

/** A module with one exported memory ("memory", `pages` × 64 KiB, growable) and functions returning nothing. */
export function encodeModule(functions: readonly ExportedFunction[], pages: number): Uint8Array {
  const out = new ByteBuffer();
  out.push(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);

  const types = new ByteBuffer();
  unsignedLeb(functions.length, types);
  for (const f of functions) {
    types.byte(0x60);
    unsignedLeb(f.body.params.length, types);
    for (const p of f.body.params) types.byte(p);
    types.byte(0x00); // no results
  }
  section(1, types, out);

  const funcs = new ByteBuffer();
  unsignedLeb(functions.length, funcs);
  functions.forEach((_, i) => unsignedLeb(i, funcs));
  section(3, funcs, out);

  const memory = new ByteBuffer();
  memory.push(1, 0x00);
  unsignedLeb(pages, memory);
  section(5, memory, out);

  const exports = new ByteBuffer();
  unsignedLeb(functions.length + 1, exports);
  name('memory', exports);
  exports.push(0x02, 0x00);
  functions.forEach((f, i) => {
    name(f.name, exports);
    exports.byte(0x00);
    unsignedLeb(i, exports);
  });
  section(7, exports, out);

  const code = new ByteBuffer();
  unsignedLeb(functions.length, code);
  for (const f of functions) f.body.encode(code);
  section(10, code, out);

  return out.bytes().slice();
}
