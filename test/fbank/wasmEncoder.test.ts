import { describe, expect, it } from 'vitest';
import {
  ByteBuffer,
  encodeModule,
  FunctionBody,
  Simd,
  signedLeb,
  unsignedLeb,
} from '../../worker/src/fbank/wasm/encoder';

interface Instance {
  exports: { memory: { buffer: ArrayBuffer }; run: () => void };
}
const wasm = (
  globalThis as unknown as {
    WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => Instance };
  }
).WebAssembly;

function leb(write: (out: ByteBuffer) => void): number[] {
  const out = new ByteBuffer();
  write(out);
  return [...out.bytes()];
}

describe('LEB128', () => {
  it('encodes unsigned and signed values as the spec examples', () => {
    expect(leb((o) => unsignedLeb(0, o))).toEqual([0]);
    expect(leb((o) => unsignedLeb(127, o))).toEqual([0x7f]);
    expect(leb((o) => unsignedLeb(128, o))).toEqual([0x80, 0x01]);
    expect(leb((o) => unsignedLeb(624485, o))).toEqual([0xe5, 0x8e, 0x26]);
    expect(leb((o) => signedLeb(-1, o))).toEqual([0x7f]);
    expect(leb((o) => signedLeb(63, o))).toEqual([0x3f]);
    expect(leb((o) => signedLeb(64, o))).toEqual([0xc0, 0x00]);
    expect(leb((o) => signedLeb(-123456, o))).toEqual([0xc0, 0xbb, 0x78]);
  });
});

/** Runs `body` (no params) on a fresh memory whose first 64 bytes hold `input` (float64), returns bytes 64..127. */
function run(input: number[], body: (f: FunctionBody) => void): DataView {
  const f = new FunctionBody([]);
  body(f);
  const instance = new wasm.Instance(new wasm.Module(encodeModule([{ name: 'run', body: f }], 1)), {});
  const memory = new Float64Array(instance.exports.memory.buffer);
  memory.set(input);
  instance.exports.run();
  return new DataView(instance.exports.memory.buffer, 64, 64);
}

/** out[64] = op(v128 at 0, v128 at 16) */
function binary(op: number, a: [number, number], b: [number, number]): [number, number] {
  const out = run([...a, ...b], (f) => {
    f.i32Const(0)
      .i32Const(0)
      .simdMem(Simd.load, 4, 0)
      .i32Const(0)
      .simdMem(Simd.load, 4, 16)
      .simd(op)
      .simdMem(Simd.store, 4, 64);
  });
  return [out.getFloat64(0, true), out.getFloat64(8, true)];
}

describe('SIMD opcodes the kernel uses mean what the kernel assumes', () => {
  it('f64x2 arithmetic', () => {
    expect(binary(Simd.f64x2Add, [1.5, -2], [0.25, 8])).toEqual([1.75, 6]);
    expect(binary(Simd.f64x2Sub, [1.5, -2], [0.25, 8])).toEqual([1.25, -10]);
    expect(binary(Simd.f64x2Mul, [1.5, -2], [0.25, 8])).toEqual([0.375, -16]);
    expect(binary(Simd.f64x2Div, [1, -2], [3, 8])).toEqual([1 / 3, -0.25]);
    expect(binary(Simd.f64x2Max, [1, -2], [3, -8])).toEqual([3, -2]);
  });

  it('unary ops, comparison, bit ops and the 64-bit shift', () => {
    const unary = (op: number, a: [number, number]): number[] => {
      const out = run(a, (f) => f.i32Const(0).i32Const(0).simdMem(Simd.load, 4, 0).simd(op).simdMem(Simd.store, 4, 64));
      return [out.getFloat64(0, true), out.getFloat64(8, true)];
    };
    expect(unary(Simd.f64x2Neg, [2, -0.5])).toEqual([-2, 0.5]);
    expect(unary(Simd.f64x2Sqrt, [2, 9])).toEqual([Math.SQRT2, 3]);
    const gt = run([3, 1, 2, 2], (f) =>
      f
        .i32Const(0)
        .i32Const(0)
        .simdMem(Simd.load, 4, 0)
        .i32Const(0)
        .simdMem(Simd.load, 4, 16)
        .simd(Simd.f64x2Gt)
        .simdMem(Simd.store, 4, 64),
    );
    expect([gt.getUint32(0, true), gt.getUint32(4, true), gt.getUint32(8, true)]).toEqual([0xffffffff, 0xffffffff, 0]);
    const shifted = run([1.0, 2.0 ** 10], (f) =>
      f.i32Const(0).i32Const(0).simdMem(Simd.load, 4, 0).i32Const(52).simd(Simd.i64x2ShrU).simdMem(Simd.store, 4, 64),
    );
    expect([shifted.getUint32(0, true), shifted.getUint32(8, true)]).toEqual([1023, 1033]);
    expect(binary(Simd.and, [1.5, 3], [1.5, 3])).toEqual([1.5, 3]);
    expect(binary(Simd.or, [1.5, 3], [1.5, 3])).toEqual([1.5, 3]);
    const select = run([1, 2, 3, 4, 0, 0], (f) => {
      f.i32Const(0).i32Const(0).simdMem(Simd.load, 4, 0).i32Const(0).simdMem(Simd.load, 4, 16);
      f.v128Const(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]))
        .simd(Simd.bitselect)
        .simdMem(Simd.store, 4, 64);
    });
    expect([select.getFloat64(0, true), select.getFloat64(8, true)]).toEqual([1, 4]);
  });

  it('splat and lane loads, demotion and lane stores', () => {
    const out = run([7.25, 0, 0, -3.5], (f) => {
      // stack: store address, lane-load address, splat (address consumed) → load64_lane pops the vector, then its address
      f.i32Const(0).i32Const(0).i32Const(0).simdMem(Simd.load64Splat, 3, 0).simdMem(Simd.load64Lane, 3, 24, 1);
      f.simd(Simd.f32x4DemoteF64x2Zero).simdMem(Simd.store, 4, 64);
      f.i32Const(80)
        .i32Const(0)
        .simdMem(Simd.load64Splat, 3, 0)
        .simd(Simd.f32x4DemoteF64x2Zero)
        .simdMem(Simd.store32Lane, 2, 4, 1);
    });
    expect([
      out.getFloat32(0, true),
      out.getFloat32(4, true),
      out.getFloat32(8, true),
      out.getFloat32(12, true),
    ]).toEqual([7.25, -3.5, 0, 0]);
    expect(out.getFloat32(20, true)).toBe(7.25);
  });
});
