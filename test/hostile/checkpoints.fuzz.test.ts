import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../worker/src/util/xoshiro';
import { readZipEntries, writeTorchZip } from '../checkpoint/torchZip';
import { TINY_CHECKPOINT } from '../beats/helpers';
import { isOneLineError, runCliBatch } from '../helpers/cliProcess';

/**
 * Seeded mutations of the tiny BEATs checkpoint's bytes, all converted by one CLI child: raw byte flips and
 * truncations (mostly caught by the zip layer and CRCs), edits of the zip headers' size fields, and edits of the
 * pickle and of storage values with the CRCs recomputed, so they reach the unpickler, the cfg and state-dict checks
 * and the converter. Every invocation must end in exit 0 or one `genrep: …` line (never an internal error or a
 * stack), the child must survive them all, and its peak RSS stays under MAX_RSS_MB. Set GENREP_FUZZ_SEED to replay
 * another seed, GENREP_FUZZ_COUNT for more cases.
 */
const SEED = Number(process.env['GENREP_FUZZ_SEED'] ?? 20240901);
const COUNT = Number(process.env['GENREP_FUZZ_COUNT'] ?? 200);
const MAX_RSS_MB = 400;

/** Opcodes the unpickler knows, so edits hit real code paths as well as the unknown-opcode one. */
const OPCODES = [
  0x28, 0x2e, 0x30, 0x31, 0x32, 0x46, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
  0x58, 0x61, 0x62, 0x63, 0x64, 0x7d, 0x65, 0x67, 0x68, 0x69, 0x6a, 0x6c, 0x5d, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74,
  0x29, 0x75, 0x47, 0x80, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x42, 0x43, 0x8c, 0x8d, 0x8e, 0x8f, 0x90,
  0x91, 0x92, 0x93, 0x94, 0x95,
];
/** How often each kind of mutation is drawn: the pickle edits reach the most code. */
const KINDS = ['flip', 'flip', 'truncate', 'zipSize', 'zipSize', 'pickle', 'pickle', 'pickle', 'pickle', 'storage'];
/** Values that sit on boundaries: size fields and integer arguments are set to these. */
const EDGE_U32 = [0, 1, 3, 4, 255, 256, 65535, 2 ** 20, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];

interface Entry {
  name: string;
  data: Buffer;
}

class Mutator {
  private readonly rng: Xoshiro128;
  constructor(
    seed: number,
    private readonly original: Buffer,
    private readonly entries: Entry[],
  ) {
    this.rng = new Xoshiro128([seed >>> 0, 0x9e3779b9, 0x243f6a88, 0xb7e15162]);
  }

  int(n: number): number {
    return this.rng.nextUint32() % n;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  /** One mutated file and what was done to it. */
  next(): { bytes: Buffer; what: string } {
    const kind = this.pick(KINDS);
    switch (kind) {
      case 'flip':
        return this.flip();
      case 'truncate': {
        const at = this.int(this.original.length);
        return { bytes: this.original.subarray(0, at), what: `truncated to ${at} bytes` };
      }
      case 'zipSize':
        return this.zipSize();
      case 'pickle':
        return this.pickle();
      default:
        return this.storage();
    }
  }

  private flip(): { bytes: Buffer; what: string } {
    const bytes = Buffer.from(this.original);
    const flips = 1 + this.int(8);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      // half the flips land in the last 8 KB: the pickle's tail, the central directory and the end record
      const tail = Math.min(8192, bytes.length);
      const pos = this.int(2) === 0 ? this.int(bytes.length) : bytes.length - 1 - this.int(tail);
      bytes[pos] = bytes[pos]! ^ (1 << this.int(8));
      at.push(pos);
    }
    return { bytes, what: `bits flipped at ${at.join(', ')}` };
  }

  /** Rewrites a size field (compressed or uncompressed, local header or central directory) of a random entry. */
  private zipSize(): { bytes: Buffer; what: string } {
    const bytes = Buffer.from(this.original);
    const central = findAll(bytes, 0x02014b50);
    const local = findAll(bytes, 0x04034b50);
    const inCentral = this.int(2) === 0 && central.length > 0;
    const header = inCentral ? this.pick(central) : this.pick(local);
    const field = (inCentral ? [20, 24] : [18, 22])[this.int(2)]!;
    const old = bytes.readUInt32LE(header + field);
    const value = this.int(3) === 0 ? this.pick(EDGE_U32) : Math.max(0, old + this.int(9) - 4);
    bytes.writeUInt32LE(value >>> 0, header + field);
    return { bytes, what: `${inCentral ? 'central' : 'local'} size field at ${header + field}: ${old} → ${value}` };
  }

  /** Edits data.pkl and rebuilds the archive with correct CRCs, so the edit reaches the unpickler. */
  private pickle(): { bytes: Buffer; what: string } {
    const index = this.entries.findIndex((e) => e.name.endsWith('/data.pkl'));
    const pkl = Buffer.from(this.entries[index]!.data);
    const edits = 1 + this.int(3);
    const done: string[] = [];
    let data = pkl;
    for (let i = 0; i < edits; i++) {
      const pos = this.int(data.length);
      switch (this.int(5)) {
        case 0:
          data[pos] = this.int(256);
          done.push(`byte ${pos} = ${data[pos]}`);
          break;
        case 1:
          data[pos] = this.pick(OPCODES);
          done.push(`opcode 0x${data[pos].toString(16)} at ${pos}`);
          break;
        case 2: {
          const n = 1 + this.int(16);
          data = Buffer.concat([data.subarray(0, pos), data.subarray(Math.min(data.length, pos + n))]);
          done.push(`${n} bytes cut at ${pos}`);
          break;
        }
        case 3: {
          const n = 1 + this.int(64);
          data = Buffer.concat([data.subarray(0, pos), data.subarray(pos, pos + n), data.subarray(pos)]);
          done.push(`${n} bytes repeated at ${pos}`);
          break;
        }
        default: {
          // an integer argument (BININT1/BININT2/BININT) set to an edge value: sizes, strides, numels, cfg ints
          const ints = [...data.keys()].filter((k) => data[k] === 0x4b || data[k] === 0x4d || data[k] === 0x4a);
          const at = this.pick(ints);
          const value = this.pick(EDGE_U32);
          if (data[at] === 0x4b) data[at + 1] = value & 0xff;
          else if (data[at] === 0x4d) data.writeUInt16LE(value & 0xffff, at + 1);
          else data.writeUInt32LE(value >>> 0, at + 1);
          done.push(`int at ${at} = ${value}`);
        }
      }
    }
    return { bytes: this.rebuild(index, data), what: `pickle: ${done.join('; ')}` };
  }

  /** Puts NaN, ±Inf, huge or denormal values into a storage, CRC recomputed (weights must be finite). */
  private storage(): { bytes: Buffer; what: string } {
    const storages = this.entries.map((e, i) => [e, i] as const).filter(([e]) => /\/data\/\d+$/.test(e.name));
    const [entry, index] = this.pick(storages);
    const data = Buffer.from(entry.data);
    const value = this.pick([NaN, Infinity, -Infinity, 3e38, 1e-45, 0]);
    const at = this.int(data.length / 4) * 4;
    data.writeFloatLE(value, at);
    return { bytes: this.rebuild(index, data), what: `${entry.name}[${at / 4}] = ${value}` };
  }

  private rebuild(index: number, data: Buffer): Buffer {
    return writeTorchZip(this.entries.map((e, i) => ({ name: e.name, data: i === index ? data : e.data })));
  }
}

function findAll(bytes: Buffer, signature: number): number[] {
  const sig = Buffer.alloc(4);
  sig.writeUInt32LE(signature);
  const out: number[] = [];
  for (let at = bytes.indexOf(sig); at >= 0; at = bytes.indexOf(sig, at + 1)) out.push(at);
  return out;
}

describe(`fuzzed tiny checkpoints (seed ${SEED}, ${COUNT} cases, one child)`, () => {
  let dir: string;
  const cases: { file: string; what: string }[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-ckpt-fuzz-'));
    const original = readFileSync(TINY_CHECKPOINT);
    const mutator = new Mutator(SEED, original, await readZipEntries(original));
    for (let i = 0; i < COUNT; i++) {
      const { bytes, what } = mutator.next();
      const file = path.join(dir, `case${String(i).padStart(3, '0')}.pt`);
      writeFileSync(file, bytes);
      cases.push({ file, what });
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ends every case in exit 0 or one error line, without a crash, with bounded peak RSS', async () => {
    const out = path.join(dir, 'out.onnx');
    const batch = await runCliBatch(
      cases.map((c) => ['model', 'convert', c.file, '--out', out]),
      { timeoutMs: 240_000 },
    );
    const unfinished = batch.unfinished !== undefined ? cases[batch.unfinished] : undefined;
    expect(batch.timedOut, `timed out during ${unfinished?.what}`).toBe(false);
    const died = `child died during ${unfinished?.what}: ${batch.processStderr.slice(0, 2000)}`;
    expect(batch.exit, died).toEqual({ code: 0, signal: null });
    expect(batch.results).toHaveLength(COUNT);
    const bad = batch.results.flatMap((r, i) => {
      const fine = r.code === 0 || (r.code === 1 && isOneLineError(r.stderr));
      return fine ? [] : [`${cases[i]!.what} → exit ${r.code}: ${r.stderr.slice(0, 500)}`];
    });
    expect(bad).toEqual([]);
    const ok = batch.results.filter((r) => r.code === 0).length;
    const slowest = Math.max(...batch.results.map((r) => r.ms));
    console.log(
      `checkpoint fuzz: ${COUNT} cases, ${ok} converted, ${COUNT - ok} refused with one line; ` +
        `slowest ${slowest.toFixed(0)} ms; peak RSS ${batch.maxRssMb?.toFixed(0)} MB`,
    );
    expect(batch.maxRssMb).toBeLessThan(MAX_RSS_MB);
  });
});
