import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { vi } from 'vitest';
import { main } from '../../worker/src/cli/main';

/** Runs the genrep CLI in-process and captures what it prints. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'genrep', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

export function tempDir(prefix: string): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** The `score-features` file options a test gives by default: banks from `train.npy` with per-row domains in `D.txt`. */
const SCORE_FEATURES_FILES: Readonly<Record<string, string | null>> = {
  train: 'train.npy',
  'train-domains': 'D.txt',
  test: 'test.npy',
};

/**
 * `score-features` arguments: its file options (by option name, each a file in the folder `file` resolves into;
 * `files` overrides the defaults, null leaves one out), followed by `extra`.
 */
export function scoreFeaturesArgs(
  file: (name: string) => string,
  extra: string[] = [],
  files: Record<string, string | null> = {},
): string[] {
  const fileArgs = Object.entries({ ...SCORE_FEATURES_FILES, ...files }).flatMap(([option, name]) =>
    name === null ? [] : [`--${option}`, file(name)],
  );
  return ['score-features', ...fileArgs, ...extra];
}
