import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readResults } from '../../worker/src/experiments/readResults';
import { isOneLineError, runCliProcess } from '../helpers/cliProcess';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { hostilePath } from './corpus';
import { cases, deep100kConfig } from './generators/configs';

/**
 * Every hostile config through `genrep run` in a child process: one `genrep: …` line naming the file, position and
 * field (or a correct run), within a time bound. Peak RSS and time per case are printed at the end.
 */
const ERROR_MS = 10_000;
const RUN_MS = 30_000;

let dir: string;
const figures: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-hostile-configs-'));
  writeTinyDataset(path.join(dir, 'data'), { machines: ['fan'], trainSource: 12, trainTarget: 3, testPerGroup: 3 });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.info(`hostile configs (case: exit, ms, peak RSS MB)\n  ${figures.join('\n  ')}`);
});

async function run(configFile: string, label: string, timeoutMs = RUN_MS) {
  const result = await runCliProcess(['run', '--quiet', configFile], { timeoutMs });
  figures.push(`${label}: exit ${result.code}, ${Math.round(result.ms)} ms, ${Math.round(result.maxRssMb)} MB`);
  return result;
}

/** Places a corpus file next to the test dataset so its relative paths resolve there. */
function place(file: string): string {
  const target = path.join(dir, path.basename(file));
  copyFileSync(hostilePath(file), target);
  return target;
}

function expectOneLine(result: { code: number; stderr: string; ms: number }, pattern: RegExp): void {
  expect(isOneLineError(result.stderr), result.stderr).toBe(true);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.ms).toBeLessThan(ERROR_MS);
}

/** What each corpus config must now do: an error matching the pattern, or 'runs'. */
const EXPECTED: Record<string, RegExp | 'runs'> = {
  'configs/bom-crlf-comments.genrep.json': 'runs',
  'configs/brackets-in-strings.genrep.json': 'runs',
  'configs/duplicate-key.genrep.json':
    /duplicate-key\.genrep\.json:4:3: \/K_n: duplicate key 'K_n' \(first at 3:3\); keep one$/m,
  'configs/duplicate-nested-key.genrep.json':
    /duplicate-nested-key\.genrep\.json:7:5: \/mixup\/K_s: duplicate key 'K_s' \(first at 5:5\)/,
  'configs/duplicate-key-escaped.genrep.json':
    /duplicate-key-escaped\.genrep\.json:4:3: \/K_n: duplicate key 'K_n' \(first at 3:3\)/,
  'configs/deep-array-32k.genrep.json': /deep-array-32k\.genrep\.json:1:\d+: nested more than 64 levels deep/,
  'configs/deep-object-10k.genrep.json': /deep-object-10k\.genrep\.json:1:\d+: nested more than 64 levels deep/,
  'configs/depth-65.genrep.json': /depth-65\.genrep\.json:1:\d+: nested more than 64 levels deep/,
  'configs/utf16le.genrep.json': /utf16le\.genrep\.json: is UTF-16 text; save the run config as UTF-8/,
  'configs/escape-in-key.genrep.json': /escape-in-key\.genrep\.json:3:3: .*unknown key '\\x1b\[31mred\\nline'/,
  'configs/empty.genrep.json': /empty\.genrep\.json: is empty; expected a run config/,
  'configs/output-is-dataset.genrep.json':
    /\/data: holds files that genrep run did not write \("fan\/"\); a run replaces the whole output folder/,
  'configs/cache-inside-output.genrep.json':
    /cache-inside-output\.genrep\.json:1:\d+: \/cacheDir: the feature cache .*out\/cache is inside the output folder/,
};

describe('hostile run configs', () => {
  it('has an expectation for every corpus config', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(cases.map((c) => c.file).sort());
  });

  it.each(cases.map((c) => c.file))('%s', async (file) => {
    const expected = EXPECTED[file]!;
    const config = place(file);
    const before = readdirSync(dir).sort();
    const result = await run(config, path.basename(file), expected === 'runs' ? RUN_MS : ERROR_MS * 2);
    if (expected === 'runs') {
      expect(result.code, result.stderr).toBe(0);
      expect(result.ms).toBeLessThan(RUN_MS);
      const results = await readResults(path.join(dir, 'out', 'results.json'));
      expect(results.configFile).toBe(config);
      expect(results.variants[0]!.machines[0]!.files).toHaveLength(12);
    } else {
      expectOneLine(result, expected);
      // A refused config leaves nothing new behind (no output folder, staging folder or lock).
      expect(readdirSync(dir).sort()).toEqual(before);
    }
  });

  it.each(['array', 'object'] as const)('refuses a 100,000-deep %s config in one line', async (kind) => {
    const file = path.join(dir, `deep-100k-${kind}.genrep.json`);
    writeFileSync(file, deep100kConfig(kind));
    expectOneLine(
      await run(file, `deep-100k-${kind} (${Math.round(deep100kConfig(kind).length / 1024)} KB)`),
      /:1:\d+: nested more than 64 levels deep/,
    );
  });
});

describe('run configs naming unusable output and cache folders', () => {
  const VALID = {
    dataset: { root: 'data' },
    embedder: 'fbank-stats',
    mixup: { K_s: 5, lambda: 0.9 },
    cacheDir: 'cache',
    output: 'out',
  };
  const write = (name: string, extra: Record<string, unknown>): string => {
    const file = path.join(dir, `${name}.genrep.json`);
    writeFileSync(file, JSON.stringify({ ...VALID, ...extra }, null, 2));
    return file;
  };

  it.each([
    ['output-etc-passwd', { output: '/etc/passwd' }, /\/etc\/passwd: already exists and is not a folder/],
    [
      'output-proc-version',
      { output: '/proc/version' },
      /\/proc\/version: cannot write results there: \/proc: is under \/proc, a pseudo-filesystem/,
    ],
    [
      'output-proc-new',
      { output: '/proc/genrep' },
      /\/proc\/genrep: cannot write results there: \/proc: is under \/proc, a pseudo-filesystem/,
    ],
    [
      'output-proc-deep',
      { output: '/proc/genrep/a/b' },
      /\/proc\/genrep\/a\/b: cannot write results there: \/proc\/genrep\/a: is under \/proc/,
    ],
    [
      'output-root',
      { output: '/' },
      /\/cacheDir: the feature cache .* is inside the output folder \/, which each run replaces/,
    ],
    [
      'output-under-file',
      { output: 'data/fan/train/section_00_source_train_normal_0000_spd_200.wav/out' },
      /cannot write results there: .*\.wav: already exists and is not a directory/,
    ],
    [
      'cache-dev-null',
      { cacheDir: '/dev/null' },
      /cache-dev-null\.genrep\.json:\d+:\d+: \/cacheDir: \/dev\/null: is under \/dev, a pseudo-filesystem/,
    ],
    ['cache-proc', { cacheDir: '/proc/genrep-cache' }, /\/cacheDir: \/proc\/genrep-cache: is under \/proc/],
    [
      'cache-is-file',
      { cacheDir: 'data/fan/train/section_00_source_train_normal_0000_spd_200.wav' },
      /\/cacheDir: .*\.wav: already exists and is not a directory/,
    ],
  ])('%s: one line, quickly', async (name, extra, pattern) => {
    const result = await run(write(name, extra), name, ERROR_MS * 2);
    expectOneLine(result, pattern);
    expect(existsSync('/proc/genrep')).toBe(false);
  });
});
