import { writeFileSync } from 'node:fs';
import { expectOneLineError } from './cliProcess';
import { encodeNpy } from '../../worker/src/io/npy';
import { BANK_DIM, validBankBytes } from '../hostile/generators/banks';

/**
 * The good inputs the hostile bank and array cases pair with a bad one, written into the folder `file` resolves
 * into: `valid.grbank` (the generators' valid bank) and `test.npy`, 5 rows of features that fit it.
 */
export function writeValidBankInputs(file: (name: string) => string): void {
  writeFileSync(file('valid.grbank'), validBankBytes());
  const test = Float32Array.from({ length: 5 * BANK_DIM }, (_, i) => ((i * 7) % 11) / 5 - 1);
  writeFileSync(file('test.npy'), encodeNpy(test, [5, BANK_DIM]));
}

/**
 * Time and peak-RSS bounds for a hostile bank or array case in its child process: those cases measure 4–70 ms at
 * 66–100 MB on the 2-core development VM; the bounds leave room for a loaded CI machine.
 */
export const HOSTILE_BOUNDS = { timeMs: 10_000, rssMb: 200 } as const;

/** The CLI run with `args` ends in one line matching `pattern`, within HOSTILE_BOUNDS. */
export const expectHostileOneLine = (args: string[], pattern: RegExp): ReturnType<typeof expectOneLineError> =>
  expectOneLineError(args, pattern, HOSTILE_BOUNDS);
