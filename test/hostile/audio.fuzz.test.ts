import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../worker/src/util/xoshiro';
import { FIXTURES } from '../helpers/golden';
import { isOneLineError, runCliBatch } from '../helpers/cliProcess';

/**
 * Seeded mutations of real WAV files (a DCASE mono clip and a MIMII 8-channel extensible one, each cut short so a
 * run stays fast) through `genrep info` and `genrep fbank --out` in one child process: header fields set to edge
 * values, chunk sizes that lie, truncations, byte flips, inserted chunks, damaged four-character codes, and stacks
 * of these. Every invocation must end in exit 0 or one `genrep: …` line (never a crash, a hang or an internal
 * error), and the child's peak RSS stays under RSS_LIMIT_MB. GENREP_FUZZ_SEED=<n> explores other mutations.
 */
const SEED = Number(process.env['GENREP_FUZZ_SEED'] ?? 20240609);
const MUTATIONS = 300;
/** Measured about 160 MB over the whole batch of 600 calls (a bare child is about 65 MB). */
const RSS_LIMIT_MB = 300;

interface Base {
  name: string;
  bytes: Uint8Array;
  /** Absolute offsets of each chunk header (id at the offset, size at +4). */
  chunks: Map<string, number>;
}

/** The first `seconds` of a WAV whose data chunk comes last: the same header, with RIFF and data sizes fixed. */
function shortened(file: string, seconds: number): Base {
  const full = readFileSync(file);
  const chunks = new Map<string, number>();
  let pos = 12;
  let dataAt = -1;
  while (pos + 8 <= full.length) {
    const id = full.toString('latin1', pos, pos + 4);
    chunks.set(id, pos);
    if (id === 'data') {
      dataAt = pos;
      break;
    }
    const size = full.readUInt32LE(pos + 4);
    pos += 8 + size + (size & 1);
  }
  const blockAlign = full.readUInt16LE(chunks.get('fmt ')! + 8 + 12);
  const dataBytes = Math.round(16000 * seconds) * blockAlign;
  const bytes = Buffer.from(full.subarray(0, dataAt + 8 + dataBytes));
  bytes.writeUInt32LE(bytes.length - 8, 4);
  bytes.writeUInt32LE(dataBytes, dataAt + 4);
  chunks.set('RIFF', 0);
  return { name: path.basename(file, '.wav'), bytes: new Uint8Array(bytes), chunks };
}

/** Values that sit on or next to the edges the reader checks. */
const EDGE_U16 = [0, 1, 2, 3, 7, 8, 12, 16, 24, 32, 40, 64, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff];
const EDGE_U32 = [
  0, 1, 2, 8, 15, 16, 17, 39, 40, 41, 999, 1000, 8000, 16000, 44100, 768000, 768001, 0x7fffffff, 0x80000000, 0xfffffffe,
  0xffffffff,
];

/** The fmt fields as [offset within the fmt body, width]. */
const FMT_FIELDS: Array<[string, number, 2 | 4]> = [
  ['formatTag', 0, 2],
  ['channels', 2, 2],
  ['sampleRate', 4, 4],
  ['byteRate', 8, 4],
  ['blockAlign', 12, 2],
  ['bitsPerSample', 14, 2],
  ['cbSize', 16, 2],
  ['validBits', 18, 2],
  ['channelMask', 20, 4],
  ['subFormat', 24, 2],
  ['guidTail', 26, 4],
];

class Mutator {
  private readonly random: Xoshiro128;
  constructor(seed: number) {
    this.random = new Xoshiro128([seed, seed ^ 0x5bd1e995, 0x27d4eb2f, 0x165667b1]);
  }

  int(n: number): number {
    return Math.floor(this.random.uniform() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** One mutation of `bytes`; returns the new bytes and what was done. */
  mutate(base: Base, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
    const out = Buffer.from(bytes);
    const fmtBody = base.chunks.get('fmt ')! + 8;
    switch (this.int(7)) {
      case 0: {
        const [name, at, width] = this.pick(FMT_FIELDS);
        if (fmtBody + at + width > out.length) return { bytes: out, what: `fmt.${name} (past the end)` };
        const original = width === 2 ? out.readUInt16LE(fmtBody + at) : out.readUInt32LE(fmtBody + at);
        const value = this.fieldValue(width, original);
        if (width === 2) out.writeUInt16LE(value, fmtBody + at);
        else out.writeUInt32LE(value, fmtBody + at);
        return { bytes: out, what: `fmt.${name}=${value}` };
      }
      case 1: {
        const id = this.pick([...base.chunks.keys()]);
        const at = base.chunks.get(id)! + 4;
        if (at + 4 > out.length) return { bytes: out, what: `${id} size (past the end)` };
        const value = this.fieldValue(4, out.readUInt32LE(at));
        out.writeUInt32LE(value, at);
        return { bytes: out, what: `${id} size=${value}` };
      }
      case 2: {
        const cut = this.random.uniform() < 0.6 ? this.int(Math.min(out.length, 120)) : this.int(out.length);
        return { bytes: out.subarray(0, cut), what: `truncated to ${cut}` };
      }
      case 3: {
        const flips = 1 + this.int(8);
        const span = this.random.uniform() < 0.7 ? Math.min(out.length, 96) : out.length;
        for (let i = 0; i < flips; i++) out[this.int(span)]! ^= 1 << this.int(8);
        return { bytes: out, what: `${flips} bit flips in the first ${span} bytes` };
      }
      case 4: {
        const before = this.pick([...base.chunks.entries()].filter(([id]) => id !== 'RIFF'));
        const body = this.int(4) === 0 ? 0 : this.int(300);
        const declared = this.random.uniform() < 0.5 ? body : this.fieldValue(4, body);
        const chunk = Buffer.alloc(8 + body + (body & 1));
        chunk.write(this.pick(['JUNK', 'LIST', 'fact', 'PAD ', 'fmt ', 'data']), 0, 'latin1');
        chunk.writeUInt32LE(declared, 4);
        const at = before[1];
        return {
          bytes: Buffer.concat([out.subarray(0, at), chunk, out.subarray(at)]),
          what: `chunk of ${body} (declares ${declared}) before ${before[0]}`,
        };
      }
      case 5: {
        const at = this.pick([0, 8, ...[...base.chunks.values()].filter((v) => v > 0)]) + this.int(4);
        out[at] = this.pick([0x00, 0x20, 0x7f, 0xff, out[at]! ^ 0x20, 0x41 + this.int(26)]);
        return { bytes: out, what: `four-character code byte ${at}=${out[at]}` };
      }
      default: {
        // Keep 16-bit data but lie about the rate in a way that makes the clip long or short.
        const rate = this.pick([1, 999, 1000, 1001, 4000, 22050, 96000, 767999, 768000]);
        if (fmtBody + 8 > out.length) return { bytes: out, what: 'sampleRate (past the end)' };
        out.writeUInt32LE(rate, fmtBody + 4);
        return { bytes: out, what: `sampleRate=${rate}` };
      }
    }
  }

  private fieldValue(width: 2 | 4, original: number): number {
    const max = width === 2 ? 0xffff : 0xffffffff;
    switch (this.int(4)) {
      case 0:
        return this.pick(width === 2 ? EDGE_U16 : EDGE_U32);
      case 1:
        return Math.min(max, Math.max(0, original + this.pick([-2, -1, 1, 2])));
      case 2:
        return this.int(max + 1);
      default:
        return Math.min(max, original * this.pick([2, 3, 16, 1000]));
    }
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-audio-fuzz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`fuzzed WAV headers through info and fbank (seed ${SEED}, ${MUTATIONS} mutations)`, () => {
  it('every invocation exits 0 or prints one clear line, with bounded time and memory', async () => {
    const bases = [
      shortened(path.join(FIXTURES, 'audio', 'dcase2023_fan_test_section_00_source_test_anomaly_0022_m-n_W.wav'), 2),
      shortened(path.join(FIXTURES, 'audio', 'mimii_fab969_8ch.wav'), 0.5),
    ];
    const mutator = new Mutator(SEED);
    const invocations: string[][] = [];
    const described: string[] = [];
    for (let i = 0; i < MUTATIONS; i++) {
      const base = bases[i % bases.length]!;
      let mutated = { bytes: base.bytes, what: '' };
      const steps = 1 + (mutator.int(3) === 0 ? 1 + mutator.int(2) : 0);
      const whats: string[] = [];
      for (let s = 0; s < steps; s++) {
        mutated = mutator.mutate(base, mutated.bytes);
        whats.push(mutated.what);
      }
      const file = path.join(dir, `m${String(i).padStart(3, '0')}.wav`);
      writeFileSync(file, mutated.bytes);
      invocations.push(['info', file], ['fbank', file, '--out', path.join(dir, 'out.npy')]);
      described.push(`${base.name}: ${whats.join('; ')}`, `${base.name}: ${whats.join('; ')}`);
    }

    const batch = await runCliBatch(invocations, { timeoutMs: 240_000 });
    const unfinished = batch.unfinished;
    const running =
      unfinished !== undefined ? `${invocations[unfinished]!.join(' ')} (${described[unfinished]})` : 'none';
    expect(batch.timedOut, `timed out while running ${running}`).toBe(false);
    const ended = `child ended abnormally while running ${running}: ${batch.processStderr.slice(0, 2000)}`;
    expect(batch.exit, ended).toEqual({ code: 0, signal: null });
    expect(batch.results).toHaveLength(invocations.length);

    let ok = 0;
    const codes = new Map<string, number>();
    for (const [i, result] of batch.results.entries()) {
      const what = `${invocations[i]!.join(' ')} (${described[i]}): exit ${result.code}, ${result.stderr}`;
      if (result.code === 0) {
        ok++;
        continue;
      }
      expect(result.code, what).toBe(1);
      expect(isOneLineError(result.stderr), what).toBe(true);
      const problem = result.stderr
        .trim()
        .replace(/^genrep: [^:]*m\d{3}\.wav: /, '')
        .replace(/\d+/g, 'N')
        .slice(0, 60);
      codes.set(problem, (codes.get(problem) ?? 0) + 1);
      // A single call on a 2 s clip: anything slow means a bound is missing.
      expect(result.ms, what).toBeLessThan(10_000);
    }
    expect(batch.maxRssMb).toBeLessThan(RSS_LIMIT_MB);
    // The mutations reach both sides: some files are still read, most are refused, for many different reasons.
    expect(ok).toBeGreaterThan(20);
    expect(invocations.length - ok).toBeGreaterThan(100);
    expect(codes.size).toBeGreaterThan(15);
    if (process.env['GENREP_REPORT_FIGURES']) {
      const slowest = Math.max(...batch.results.map((r) => r.ms));
      const errors = `${invocations.length - ok} one-line errors of ${codes.size} kinds`;
      const figures = `peak RSS ${batch.maxRssMb!.toFixed(0)} MB; slowest ${slowest.toFixed(0)} ms`;
      process.stdout.write(`fuzz: ${invocations.length} invocations, ${ok} exit 0, ${errors}; ${figures}\n`);
      for (const [problem, n] of [...codes.entries()].sort((a, b) => b[1] - a[1])) {
        process.stdout.write(`  ${String(n).padStart(4)}  ${problem}\n`);
      }
    }
  });
});
