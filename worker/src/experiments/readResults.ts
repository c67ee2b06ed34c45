import { promises as fsp } from 'node:fs';
import { GenrepError } from '../errors';
import { fsError } from '../io/fsErrors';
import { RESULTS_SCHEMA_VERSION, type RunResults } from '../protocol/results';

/** A results.json as `genrep run` writes it (protocol/results.ts), refused when another schema version wrote it. */
export async function readResults(file: string): Promise<RunResults> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw fsError(err, file, { action: 'read', expected: 'a results.json' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GenrepError(
      `${file}: not valid JSON (a results.json is written atomically, so this file was not written by genrep run)`,
      'CORRUPT',
      { file },
    );
  }
  const schemaVersion =
    typeof parsed === 'object' && parsed !== null ? (parsed as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (schemaVersion !== RESULTS_SCHEMA_VERSION) {
    throw new GenrepError(
      `${file}: results schemaVersion ${String(schemaVersion)} is not ${RESULTS_SCHEMA_VERSION}; re-run the experiment with this version`,
      'UNSUPPORTED',
      {
        file,
        field: '/schemaVersion',
      },
    );
  }
  // The version is the contract: a file of this version was written by this code (atomically), as RunResults.
  return parsed as RunResults;
}
