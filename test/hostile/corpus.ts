import * as path from 'node:path';
import { cases as arrays } from './generators/arrays';
import { cases as audio } from './generators/audio';
import { cases as banks } from './generators/banks';
import { cases as checkpoints } from './generators/checkpoints';
import { cases as configs } from './generators/configs';

/**
 * The hostile-input corpus: small files that once took the CLI or the worker down, each made by a deterministic
 * generator so the committed bytes can be checked against (and regenerated from) the code that explains them.
 * Regenerate with `UPDATE_HOSTILE_CORPUS=1 npx vitest run test/hostile/corpus.test.ts`.
 */
export interface HostileCase {
  /** Path below test/fixtures/hostile, e.g. `checkpoints/stride0-2p29.pt`. */
  file: string;
  /** What the file is and what it once did, one sentence. */
  note: string;
  bytes: () => Uint8Array;
}

export const HOSTILE_DIR = path.resolve(__dirname, '..', 'fixtures', 'hostile');

/** Committed corpus files stay small; anything bigger is generated into a temp folder by its test. */
export const MAX_CORPUS_FILE_BYTES = 64 * 1024;

export const ALL_CASES: readonly HostileCase[] = [...checkpoints, ...audio, ...banks, ...configs, ...arrays];

export function hostilePath(file: string): string {
  return path.join(HOSTILE_DIR, file);
}
