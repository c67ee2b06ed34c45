import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../worker/src/io/npy';
import { Xoshiro128 } from '../../worker/src/util/xoshiro';
import { tempDir } from '../helpers/cli';
import { isOneLineError, runCliBatch } from '../helpers/cliProcess';
import { BANK_DIM, bankBytes, validBankBytes, validBankHeader, validBankRows } from './generators/banks';

/**
 * Seeded mutations of a small valid bank (24 rows × 4 dims, MemMixup, HNSW index, inductive statistics) through
 * `genrep score-features --bank` in one child process: header values edited with the checksum recomputed (so the
 * edit reaches the header checks, hnswlib-node and the z-scores), header text bytes flipped with the checksum
 * recomputed, raw byte flips, truncation and trailing bytes. Every invocation must end with exit 0 and finite
 * scores, or exit 1 and one `genrep: …` line; the process must not crash, and its peak RSS stays bounded.
 * GENREP_FUZZ_SEED=<n> explores another sequence; GENREP_FUZZ_COUNT=<n> runs more.
 *
 * Measured on the 2-core development VM: 200 mutations (seed 20250901) take ~1 s in the child at 136–156 MB peak
 * RSS, 43 of them scoring (exit 0) and 157 refused; 1000 mutations each of seeds 20250901 and 1–5 ran clean at
 * 159–179 MB (onnxruntime is loaded by the banks that score).
 */
const SEED = Number(process.env['GENREP_FUZZ_SEED'] ?? 20250901);
const COUNT = Number(process.env['GENREP_FUZZ_COUNT'] ?? 200);
const RSS_MB = 300;
/** What the error lines say, for the tally printed at the end. */
const REASONS = new RegExp(
  ": (?:\\d+ )?(checksum mismatch|truncated|not a GenRep bank|bank format version|header '[a-zA-Z]+|the JSON header|" +
    'bank row|domain normalisation|unexpected bytes?|the \\w+ bank)',
);

const tmp = tempDir('genrep-bank-fuzz-');
afterAll(() => tmp.cleanup());

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const POOL: Json[] = [
  0,
  -1,
  1,
  2,
  3,
  -3,
  0.5,
  1e308,
  -1e308,
  5e-324,
  1e39,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  'x',
  '',
  '__proto__',
  'rows',
  'constructor',
  null,
  true,
  false,
  [],
  {},
  [0],
  [[0, 1]],
  { m: 0 },
  'hnsw',
  'exact',
  'source',
  'target',
  'section',
  'pooled',
  { mean: 1, std: 0 },
];

class Fuzzer {
  constructor(private readonly rng: Xoshiro128) {}

  int(n: number): number {
    return Math.floor(this.rng.uniform() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  value(old: Json): Json {
    if (typeof old === 'number' && this.int(2) === 0)
      return this.pick([old + 1, old - 1, -old, old * 2, old * 1000, old / 1e6, 0]);
    return structuredClone(this.pick(POOL));
  }

  /**
   * A place in the tree, [container, key]: a random key at the top, then deeper with probability ½ per level, so
   * every header field is edited about as often as any other (a uniform pick over all places would mostly hit the
   * long rowGroups list).
   */
  place(root: Json): [Json[] | { [key: string]: Json }, string | number] {
    let container = root as Json[] | { [key: string]: Json };
    for (;;) {
      const keys: (string | number)[] = Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container);
      if (keys.length === 0) return [container, Array.isArray(container) ? 0 : 'x'];
      const key = this.pick(keys);
      const child = (container as Record<string | number, Json>)[key];
      if (child === null || typeof child !== 'object' || this.int(2) === 0) return [container, key];
      container = child;
    }
  }

  /** One or a few edits of the header as data; returns a short description for failure messages. */
  editHeader(header: Json): string {
    const edits = 1 + this.int(3);
    const what: string[] = [];
    for (let e = 0; e < edits; e++) {
      const [container, key] = this.place(header);
      const action = this.int(5);
      if (Array.isArray(container)) {
        const i = key as number;
        if (action === 2) container.splice(i, 1);
        else if (action === 3) container.splice(i, 0, structuredClone(container[i]!));
        else container[i] = this.value(container[i]!);
      } else {
        const k = key as string;
        if (action === 2) delete container[k];
        else if (action === 3) {
          const renamed = this.pick(['__proto__', 'rows', 'constructor', 'x', 'source']);
          Object.defineProperty(container, renamed, {
            value: container[k],
            enumerable: true,
            writable: true,
            configurable: true,
          });
          delete container[k];
        } else if (action === 4)
          // A pool value as JavaScript coerces it to a property key, '[object Object]' for {} included: on purpose.
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the coercion itself is what is fuzzed
          Object.defineProperty(container, String(this.pick(POOL)), {
            value: this.value(null),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else container[k] = this.value(container[k]!);
      }
      what.push(`${['replace', 'tweak', 'delete', 'rename/duplicate', 'insert'][action]} ${String(key)}`);
    }
    return what.join(', ');
  }

  mutate(): { bytes: Uint8Array; note: string } {
    const kind = this.int(100);
    if (kind < 55) {
      const header = validBankHeader() as unknown as Json;
      const note = this.editHeader(header);
      return { bytes: bankBytes(header, validBankRows()), note: `header edit: ${note}` };
    }
    if (kind < 65) {
      // Flip bytes of the header text, checksum recomputed: broken JSON, odd escapes, stray characters.
      const text = Buffer.from(JSON.stringify(validBankHeader()), 'utf8');
      for (let i = 0, n = 1 + this.int(3); i < n; i++) text[this.int(text.length)]! ^= 1 << this.int(8);
      return { bytes: bankBytes(null, validBankRows(), { headerText: text }), note: 'header text flip' };
    }
    if (kind < 72) {
      // Flip bits of the rows, checksum recomputed: exponent bits give huge values, NaN or Infinity.
      const rows = validBankRows();
      const raw = new Uint8Array(rows.buffer);
      for (let i = 0, n = 1 + this.int(4); i < n; i++) raw[this.int(raw.length)]! ^= 1 << this.int(8);
      return { bytes: bankBytes(validBankHeader(), rows), note: 'row bit flip' };
    }
    const bytes = validBankBytes().slice();
    if (kind < 86) {
      for (let i = 0, n = 1 + this.int(4); i < n; i++) {
        // Half the flips land in the 16-byte prefix (magic, version, header length), which the checksum guards last.
        const at = this.int(2) === 0 ? this.int(16) : this.int(bytes.length);
        bytes[at]! ^= 1 << this.int(8);
      }
      return { bytes, note: 'raw byte flip' };
    }
    if (kind < 96) {
      const cut = this.int(bytes.length);
      return { bytes: bytes.subarray(0, cut), note: `truncated to ${cut} bytes` };
    }
    const extra = new Uint8Array(1 + this.int(64)).fill(this.int(256));
    return { bytes: new Uint8Array([...bytes, ...extra]), note: `${extra.length} bytes appended` };
  }
}

describe('bank file fuzzing through genrep score-features --bank', () => {
  it(`${COUNT} seeded mutations (seed ${SEED}): finite scores or one error line; no crash; bounded RSS`, async () => {
    const rng = new Xoshiro128([SEED >>> 0, 0x2545f491, 0x9e3779b9, 0x6a09e667]);
    const fuzz = new Fuzzer(rng);
    const test = tmp.file('test.npy');
    writeFileSync(
      test,
      encodeNpy(
        Float32Array.from({ length: 5 * BANK_DIM }, (_, i) => ((i * 7) % 11) / 5 - 1),
        [5, BANK_DIM],
      ),
    );
    const notes: string[] = [];
    const invocations: string[][] = [];
    for (let i = 0; i < COUNT; i++) {
      const { bytes, note } = fuzz.mutate();
      const file = tmp.file(`m${i}.grbank`);
      writeFileSync(file, bytes);
      const args = [
        'score-features',
        '--bank',
        file,
        '--test',
        test,
        '--dn',
        fuzz.pick(['inductive', 'none', 'transductive']),
      ];
      if (fuzz.int(4) === 0) args.push('--threshold-quantile', '0.9');
      if (fuzz.int(6) === 0) args.push('--kn', String(1 + fuzz.int(3)));
      invocations.push(args);
      notes.push(note);
    }
    const batch = await runCliBatch(invocations, { timeoutMs: 240_000 });
    const where = (i: number | undefined): string =>
      i === undefined ? '' : ` (mutation ${i}: ${notes[i]}; ${invocations[i]!.join(' ')})`;
    expect(batch.timedOut, `timed out${where(batch.unfinished)}`).toBe(false);
    expect(batch.exit, `child died${where(batch.unfinished)}: ${batch.processStderr.slice(0, 500)}`).toEqual({
      code: 0,
      signal: null,
    });
    expect(batch.results).toHaveLength(COUNT);
    const tally: Record<string, number> = {};
    batch.results.forEach((r, i) => {
      if (r.code === 0) {
        const out = JSON.parse(r.stdout) as { score: unknown[] };
        expect(
          out.score.every((s) => typeof s === 'number' && Number.isFinite(s)),
          `non-finite score${where(i)}`,
        ).toBe(true);
        tally['scored'] = (tally['scored'] ?? 0) + 1;
      } else {
        expect(r.code, `exit ${r.code}: ${r.stderr}${where(i)}`).toBe(1);
        expect(isOneLineError(r.stderr), `not one line: ${r.stderr}${where(i)}`).toBe(true);
        const reason = REASONS.exec(r.stderr)?.[1] ?? 'other';
        tally[reason] = (tally[reason] ?? 0) + 1;
      }
    });
    expect(batch.maxRssMb).toBeLessThan(RSS_MB);
    // The figures, for the record (vitest prints console output of passing tests only with --reporter=verbose).
    console.log(
      `bank fuzz: seed ${SEED}, ${COUNT} mutations, peak RSS ${batch.maxRssMb?.toFixed(0)} MB,`,
      JSON.stringify(tally),
    );
  }, 300_000);
});
