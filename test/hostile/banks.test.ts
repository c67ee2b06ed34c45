import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWavPcm16 } from '../../worker/src/audio';
import { encodeNpy } from '../../worker/src/io/npy';
import { WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';
import { scoreFeaturesArgs, tempDir } from '../helpers/cli';
import { runCliProcess } from '../helpers/cliProcess';
import { expectHostileOneLine, HOSTILE_BOUNDS, writeValidBankInputs } from '../helpers/hostileBank';
import { rejectionOf, startWorker, stopWorker } from '../server/workerProcess';
import { hostilePath } from './corpus';
import { BANK_DIM } from './generators/banks';

/**
 * Hostile bank files through the built CLI in a child process (crashes, hangs and memory show there) and through
 * the worker: each ends in one line naming the file and the field or row, or in a correct result. Measured on the
 * 2-core development VM (time inside the child, after Node's start): every error case 4–70 ms at 66–67 MB peak RSS
 * (a bare child is ~65 MB; the z-score case loads onnxruntime: 100 MB), the valid bank 40–50 ms at 100 MB. The
 * bounds (HOSTILE_BOUNDS) leave room for a loaded CI machine.
 */
const tmp = tempDir('genrep-hostile-banks-');
const f = tmp.file;

beforeAll(() => {
  writeValidBankInputs(f);
  const train = Float32Array.from({ length: 24 * BANK_DIM }, (_, i) => ((i * 13) % 17) / 8 - 1);
  writeFileSync(f('train.npy'), encodeNpy(train, [24, BANK_DIM]));
  writeFileSync(f('D.txt'), Array.from({ length: 24 }, (_, i) => (i % 6 === 5 ? 'target' : 'source')).join('\n'));
});
afterAll(() => tmp.cleanup());

const scoreBank = (bank: string, ...extra: string[]): string[] => [
  'score-features',
  '--bank',
  bank,
  '--test',
  f('test.npy'),
  '--dn',
  'inductive',
  ...extra,
];

describe('hostile bank files: one line naming the file and the field, or a correct result', () => {
  it('the valid base bank scores in every DN mode, every score a finite number (the control)', async () => {
    for (const dn of ['inductive', 'none', 'transductive']) {
      const run = await runCliProcess(
        ['score-features', '--bank', f('valid.grbank'), '--test', f('test.npy'), '--dn', dn],
        { timeoutMs: HOSTILE_BOUNDS.timeMs * 2 },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const out = JSON.parse(run.stdout) as { score: unknown[]; index: string };
      expect(out.index).toBe('hnsw');
      expect(out.score).toHaveLength(5);
      for (const s of out.score) expect(Number.isFinite(s)).toBe(true);
      expect(run.maxRssMb).toBeLessThan(HOSTILE_BOUNDS.rssMb);
    }
  });

  const expected: Record<string, RegExp> = {
    'banks/hnsw-m0.grbank': /hnsw-m0\.grbank: header 'hnsw\.m' must be an integer in 2\.\.512, got 0$/m,
    'banks/hnsw-m1.grbank': /hnsw-m1\.grbank: header 'hnsw\.m' must be an integer in 2\.\.512, got 1$/m,
    'banks/hnsw-efconstruction-string.grbank':
      /header 'hnsw\.efConstruction' must be an integer in 1\.\.100000, got "x"/,
    'banks/rows-nan.grbank': /rows-nan\.grbank: bank row 7, column 2 is NaN/,
    'banks/rows-inf.grbank': /rows-inf\.grbank: bank row 23, column 0 is -Infinity/,
    'banks/stats-null.grbank': /header 'inductiveStats\[0\]\.banks\.source\.mean' must be a distance.*got null/,
    'banks/stats-mean-string.grbank': /header 'inductiveStats\[0\]\.banks\.target\.mean' must be a distance.*got "x"/,
    'banks/stats-std-negative.grbank':
      /header 'inductiveStats\[0\]\.banks\.source\.std' must be a positive number.*got -0\.5/,
    'banks/stats-std-zero.grbank':
      /header 'inductiveStats\[0\]\.banks\.target\.std' must be a positive number.*got 0$/m,
    'banks/stats-huge.grbank': /header 'inductiveStats\[0\]\.banks\.source\.mean' must be a distance.*got 1e\+300/,
    'banks/stats-std-denormal.grbank':
      /stats-std-denormal\.grbank: .*non-finite z-score for test clip 0: the source .*\(mean 1\.25, std 5e-324\)/,
    'banks/rows-claimed-1000.grbank':
      /rows-claimed-1000\.grbank: truncated: 1000 rows × 4 float32 need a 16528-byte file, it has 912 bytes/,
    'banks/header-length-4gib.grbank':
      /header-length-4gib\.grbank: truncated: the header alone needs 4294967328 bytes, the file has 944/,
    'banks/mixup-ks-negative.grbank': /header 'mixup\.ks' must be an integer in 1\.\.20 \(the source rows\), got -3/,
    'banks/section-rows.grbank': /section-rows\.grbank: header 'groups\[1\]' is 'rows', a name reserved in bank files/,
    'banks/section-augmented.grbank': /section-augmented\.grbank: header 'groups\[0\]' is 'augmented', a name reserved/,
    'banks/section-proto.grbank': /section-proto\.grbank: header 'groups\[0\]' is '__proto__', a name reserved/,
  };
  for (const [file, pattern] of Object.entries(expected)) {
    it(`${file}: genrep score-features --bank`, async () => {
      await expectHostileOneLine(scoreBank(hostilePath(file)), pattern);
    });
  }

  it("refuses to save a bank with a section 'rows', 'augmented' or '__proto__'; scoring alone works", async () => {
    for (const name of ['rows', 'augmented', '__proto__']) {
      const sections = f(`S-${name}.txt`);
      writeFileSync(sections, Array.from({ length: 24 }, (_, i) => (i % 2 ? name : 'id_00')).join('\n'));
      const out = f(`${name}.grbank`);
      const args = [
        'score-features',
        '--train',
        f('train.npy'),
        '--train-sections',
        sections,
        '--test',
        f('test.npy'),
        '--dn',
        'none',
      ];
      await expectHostileOneLine(
        [...args, '--save-bank', out],
        new RegExp(`${name}\\.grbank: cannot save the bank: the section name '${name}' is reserved in bank files`),
      );
      expect(existsSync(out)).toBe(false);
      const scored = await runCliProcess(args, { timeoutMs: HOSTILE_BOUNDS.timeMs * 2 });
      expect(scored.code).toBe(0);
      expect(
        Object.keys((JSON.parse(scored.stdout) as { distances: Record<string, number[]> }).distances).sort(),
      ).toEqual([name, 'id_00'].sort());
    }
  });

  it('refuses a negative K_s naming the option (K_s = 0 is off)', async () => {
    const args = scoreFeaturesArgs(f, ['--dn', 'none']);
    await expectHostileOneLine(
      [...args, '--mixup-ks', '-3'],
      /^genrep: --mixup-ks: K_s must be 0 \(MemMixup off\) or a positive integer, got -3$/m,
    );
    const off = await runCliProcess([...args, '--mixup-ks', '0'], { timeoutMs: HOSTILE_BOUNDS.timeMs * 2 });
    expect(off.code).toBe(0);
    expect((JSON.parse(off.stdout) as { mixup: unknown }).mixup).toBeNull();
  });
});

describe('the worker given a hostile bank', () => {
  it('answers genrep/scoreFiles with an error naming bank and field, then the next request (listBanks)', async () => {
    const dir = f('worker');
    mkdirSync(path.join(dir, 'banks'), { recursive: true });
    const wav = path.join(dir, 'clip.wav');
    writeFileSync(
      wav,
      encodeWavPcm16(
        Float32Array.from({ length: 16000 }, (_, i) => 0.1 * Math.sin(i / 10)),
        16000,
      ),
    );
    const bankFile = path.join(dir, 'banks', 'hnsw-m0.grbank');
    copyFileSync(hostilePath('banks/hnsw-m0.grbank'), bankFile);
    copyFileSync(hostilePath('banks/rows-nan.grbank'), path.join(dir, 'banks', 'rows-nan.grbank'));
    const worker = await startWorker({ settings: { cacheDir: path.join(dir, 'cache') } });
    try {
      const err = await rejectionOf(worker.request('genrep/scoreFiles', { bankFile, files: [wav], dn: 'inductive' }));
      expect(err.code).toBe(WORKER_ERROR_CODES.CORRUPT);
      expect(err.data).toMatchObject({ code: 'CORRUPT', file: bankFile, field: 'hnsw.m' });
      expect(err.message).toMatch(/header 'hnsw\.m' must be an integer in 2\.\.512, got 0/);
      const listed = await worker.request('genrep/listBanks', { dirs: [path.join(dir, 'banks')] });
      expect(listed.banks).toEqual([]);
      expect(listed.problems.map((p) => path.basename(p.path))).toEqual(['hnsw-m0.grbank', 'rows-nan.grbank']);
      expect(listed.problems[1]!.message).toMatch(/bank row 7, column 2 is NaN/);
    } finally {
      expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
    }
  });
});
