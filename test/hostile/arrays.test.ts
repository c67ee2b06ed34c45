import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { tempDir } from '../helpers/cli';
import { expectHostileOneLine, writeValidBankInputs } from '../helpers/hostileBank';
import { hostilePath } from './corpus';
import { npyBytes } from './generators/arrays';
import { BANK_DIM } from './generators/banks';

/**
 * Hostile .npy inputs through the built CLI in a child process: NaN / ±Infinity named with the file and the row or
 * index, and .npy files over 2 GiB (sparse, made here) read in chunks and refused at the header or at the first bad
 * chunk — never an ERR_FS_FILE_TOO_LARGE stack. Measured on the 2-core development VM (time inside the child): every
 * case 4–31 ms at 66–70 MB peak RSS, the 2 GiB files included (a bare child is ~65 MB).
 */
const tmp = tempDir('genrep-hostile-arrays-');
const f = tmp.file;

beforeAll(() => {
  writeValidBankInputs(f);
  writeFileSync(f('L8.txt'), '0\n1\n0\n1\n0\n1\n0\n1\n');
});
afterAll(() => tmp.cleanup());

describe('hostile arrays: NaN / ±Infinity named with the file and the row or index', () => {
  it('a NaN score in a .npy given to genrep metrics', async () => {
    await expectHostileOneLine(
      ['metrics', '--scores', hostilePath('arrays/scores-nan.npy'), '--labels', f('L8.txt')],
      /scores-nan\.npy: index 5 is NaN; scores must be finite numbers/,
    );
  });

  it('NaN, Infinity and float32-overflowing values in feature files, as test and as training features', async () => {
    const cases: [string, RegExp][] = [
      ['arrays/features-nan.npy', /features-nan\.npy: row 3, column 1 is NaN; features must be finite numbers/],
      [
        'arrays/features-inf-f8.npy',
        /features-inf-f8\.npy: row 2, column 0 is Infinity; features must be finite numbers/,
      ],
      [
        'arrays/features-f8-overflow.npy',
        /features-f8-overflow\.npy: row 4, column 3 is 1e\+39, beyond the float32 range/,
      ],
    ];
    for (const [file, pattern] of cases) {
      await expectHostileOneLine(
        ['score-features', '--bank', f('valid.grbank'), '--test', hostilePath(file), '--dn', 'none'],
        pattern,
      );
      await expectHostileOneLine(
        ['score-features', '--train', hostilePath(file), '--test', f('test.npy'), '--dn', 'none'],
        pattern,
      );
    }
  });
});

describe('.npy files over 2 GiB (sparse, made here): refused from the header or at the first bad chunk', () => {
  /** A float32 .npy whose header claims `shape`, extended to full size without writing (a sparse file). */
  function sparseNpy(name: string, shape: number[], poke?: { index: number; value: number }): string {
    const file = f(name);
    const header = npyBytes('<f4', shape, []);
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, header);
      if (poke) writeSync(fd, new Uint8Array(Float32Array.of(poke.value).buffer), 0, 4, header.length + poke.index * 4);
      ftruncateSync(fd, header.length + shape.reduce((a, b) => a * b, 1) * 4);
    } finally {
      closeSync(fd);
    }
    return file;
  }
  const rows = 2 ** 27 + 16; // × 4 float32 = 2 GiB + 256 bytes

  it('NaN in row 3 of a 2 GiB feature file: the row is named, nothing past the first chunk is read', async () => {
    const file = sparseNpy('big-nan.npy', [rows, BANK_DIM], { index: 3 * BANK_DIM + 1, value: NaN });
    await expectHostileOneLine(
      ['score-features', '--bank', f('valid.grbank'), '--test', file, '--dn', 'none'],
      /big-nan\.npy: row 3, column 1 is NaN/,
    );
  });

  it('a 2 GiB feature file of the wrong dimension: refused from its header', async () => {
    const file = sparseNpy('big-dim.npy', [2 ** 26 + 8, 8]);
    await expectHostileOneLine(
      ['score-features', '--bank', f('valid.grbank'), '--test', file, '--dn', 'none'],
      /big-dim\.npy: features have 8 dimensions but the bank \(.*valid\.grbank\) has 4/,
    );
  });

  it('a 2 GiB score file against 8 labels: refused from its header', async () => {
    const file = sparseNpy('big-scores.npy', [2 ** 29 + 64]);
    await expectHostileOneLine(
      ['metrics', '--scores', file, '--labels', f('L8.txt')],
      /L8\.txt: has 8 labels but .*big-scores\.npy has 536870976 scores/,
    );
  });
});

describe('inputs that are not regular files', () => {
  it('a device as features or as a bank: refused at once (reading /dev/zero would never end)', async () => {
    await expectHostileOneLine(
      ['score-features', '--bank', f('valid.grbank'), '--test', '/dev/zero', '--dn', 'none'],
      /^genrep: \/dev\/zero: is not a regular file/m,
    );
    await expectHostileOneLine(
      ['score-features', '--bank', '/dev/zero', '--test', f('test.npy'), '--dn', 'none'],
      /^genrep: \/dev\/zero: is not a regular file/m,
    );
    await expectHostileOneLine(['metrics', '--scores', tmp.dir, '--labels', f('L8.txt')], /is a directory/);
  });

  it('a FIFO nobody writes to: refused without opening it (opening would block forever)', async () => {
    const fifo = f('fifo.npy');
    execFileSync('mkfifo', [fifo]);
    await expectHostileOneLine(
      ['metrics', '--scores', fifo, '--labels', f('L8.txt')],
      /fifo\.npy: is not a regular file/,
    );
    await expectHostileOneLine(
      ['score-features', '--bank', fifo, '--test', f('test.npy')],
      /fifo\.npy: is not a regular file/,
    );
  });
});
