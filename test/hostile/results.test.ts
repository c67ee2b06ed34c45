import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResults } from '../../worker/src/protocol/results';
import { isOneLineError, runCliProcess } from '../helpers/cliProcess';
import { writeTinyDataset } from '../helpers/tinyDataset';

/**
 * How `genrep run` writes its output folder under hostile conditions — a full disk, two runs into one folder,
 * leftovers of killed runs, read-only folders — and every CLI `--out` meeting a bad path. After each, the output
 * folder must hold exactly one run's complete set and the CLI must have printed one line.
 */
let dir: string;
let data: string;
let cache: string;
const mounts: string[] = [];
const figures: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-hostile-results-'));
  data = path.join(dir, 'data');
  cache = path.join(dir, 'cache');
  writeTinyDataset(data, { machines: ['fan'], trainSource: 12, trainTarget: 3, testPerGroup: 3 });
});
afterAll(() => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
  console.info(`hostile results (case: exit, ms, peak RSS MB)\n  ${figures.join('\n  ')}`);
});

/** A small tmpfs (root only; refused in most sandboxes and CI, where the tests that need one are skipped). */
function mountTmpfs(at: string, options: string): boolean {
  mkdirSync(at, { recursive: true });
  if (process.platform !== 'linux') return false;
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at], { stdio: 'ignore' });
  if (result.status !== 0) return false;
  mounts.push(at);
  return true;
}
const canMount = ((): boolean => {
  const probe = mkdtempSync(path.join(os.tmpdir(), 'genrep-mount-probe-'));
  const ok =
    process.platform === 'linux' &&
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' }).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

function config(name: string, output: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${name}.genrep.json`);
  const body = {
    dataset: { root: data },
    embedder: 'fbank-stats',
    mixup: { K_s: 5, lambda: 0.9 },
    cacheDir: cache,
    output,
    ...extra,
  };
  writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
}

async function genrep(label: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await runCliProcess(args, { timeoutMs: 60_000, env });
  figures.push(`${label}: exit ${result.code}, ${Math.round(result.ms)} ms, ${Math.round(result.maxRssMb)} MB`);
  return result;
}

/**
 * The folder holds exactly one run's set: the files its results.json lists and nothing else, and submission files
 * that agree with that results.json. Returns the run's K_n, which tells the test's runs apart.
 */
function expectOneCompleteSet(out: string): number {
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
  expect(readdirSync(out).sort()).toEqual([...results.outputs].sort());
  for (const machine of results.variants[0]!.machines) {
    for (const section of machine.sections) {
      const files = machine.files.filter((f) => f.section === section);
      const scores = readFileSync(
        path.join(out, `anomaly_score_${machine.machineType}_section_${section}_test.csv`),
        'utf8',
      );
      expect(scores).toBe(files.map((f) => `${f.name},${f.score}\n`).join(''));
    }
  }
  expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain(results.name);
  // No staging folder, backup or lock of this output left beside it.
  const name = path.basename(out);
  expect(readdirSync(path.dirname(out)).filter((n) => n.startsWith(`.${name}.`))).toEqual([]);
  return results.config.K_n;
}

function snapshot(folder: string): Record<string, string> {
  return Object.fromEntries(readdirSync(folder).map((n) => [n, readFileSync(path.join(folder, n), 'latin1')]));
}

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

/** Fills the filesystem holding `folder` until a write fails with ENOSPC. */
function fill(folder: string): string {
  const file = path.join(folder, 'filler.bin');
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

describe('a full disk while writing over an earlier run', () => {
  it.runIf(canMount)('on a full tmpfs: one line, the old set intact, nothing half-written', async () => {
    const mnt = path.join(dir, 'full');
    expect(mountTmpfs(mnt, 'size=2m')).toBe(true);
    const out = path.join(mnt, 'out');
    expect((await genrep('tmpfs: run A', ['run', '--quiet', config('full-a', out, { K_n: 1 })])).code).toBe(0);
    const before = snapshot(out);
    const filler = fill(mnt);
    const b = await genrep('tmpfs full: run B', ['run', '--quiet', config('full-b', out, { K_n: 2 })]);
    expect(isOneLineError(b.stderr), b.stderr).toBe(true);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/no space left on the device/);
    expect(b.stderr).not.toMatch(/staging/);
    figures.push(`tmpfs full: ${b.stderr.trim()}`);
    expect(snapshot(out)).toEqual(before);
    expect(expectOneCompleteSet(out)).toBe(1);
    expect(readdirSync(mnt).sort()).toEqual(['filler.bin', 'out']);

    // Room for the lock and the small submission files, not for report.html (28 KB): the disk fills mid-set.
    truncateSync(filler, statSync(filler).size - 12 * 1024);
    const mid = await genrep('tmpfs nearly full: run B', ['run', '--quiet', config('full-b', out, { K_n: 2 })]);
    expect(isOneLineError(mid.stderr), mid.stderr).toBe(true);
    expect(mid.stderr).toMatch(/full\/out\/(report\.html|results\.json|\w+\.csv): no space left on the device/);
    expect(snapshot(out)).toEqual(before);
    expect(expectOneCompleteSet(out)).toBe(1);
    expect(readdirSync(mnt).sort()).toEqual(['filler.bin', 'out']);
    figures.push(`tmpfs nearly full: ${mid.stderr.trim()}`);

    unlinkSync(filler);
    expect((await genrep('tmpfs freed: run B', ['run', '--quiet', config('full-b', out, { K_n: 2 })])).code).toBe(0);
    expect(expectOneCompleteSet(out)).toBe(2);
  });

  it.each([1, 2, 4])(
    'with the %d-th result write failing (injected ENOSPC): one line, the old set intact',
    async (n) => {
      const out = path.join(dir, `injected-${n}`, 'out');
      expect(
        (await genrep(`injected ${n}: run A`, ['run', '--quiet', config(`inj-a-${n}`, out, { K_n: 1 })])).code,
      ).toBe(0);
      const before = snapshot(out);
      // The cache is warm, so the run's only atomic writes are its result files.
      const b = await genrep(
        `injected ENOSPC at write ${n}: run B`,
        ['run', '--quiet', config(`inj-b-${n}`, out, { K_n: 2 })],
        {
          GENREP_TEST_ENOSPC_AT_WRITE: String(n),
        },
      );
      expect(isOneLineError(b.stderr), b.stderr).toBe(true);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(
        new RegExp(`^genrep: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[a-z_0-9.]+: no space left on the device`),
      );
      expect(snapshot(out)).toEqual(before);
      expect(expectOneCompleteSet(out)).toBe(1);
    },
  );
});

describe('two runs started together into one folder', () => {
  it('leave one complete set; the other run fails naming the first, or they ran one after the other', async () => {
    const out = path.join(dir, 'together', 'out');
    const a = config('together-a', out, { K_n: 1 });
    const b = config('together-b', out, { K_n: 2 });
    let overlapped = 0;
    const trials = 8;
    for (let trial = 0; trial < trials; trial++) {
      const [ra, rb] = await Promise.all([
        genrep(`together ${trial}: A`, ['run', '--quiet', a]),
        genrep(`together ${trial}: B`, ['run', '--quiet', b]),
      ]);
      for (const r of [ra, rb]) {
        if (r.code !== 0) {
          if (trial === 0) figures.push(`together: ${r.stderr.trim()}`);
          expect(isOneLineError(r.stderr), r.stderr).toBe(true);
          expect(r.code).toBe(1);
          expect(r.stderr).toMatch(
            /out: another run \(pid \d+ on .*, started .*\) is writing results here; wait for it to finish/,
          );
        }
      }
      expect(ra.code === 0 || rb.code === 0).toBe(true);
      const kn = expectOneCompleteSet(out);
      if (ra.code !== 0 || rb.code !== 0) {
        overlapped++;
        expect(kn).toBe(ra.code === 0 ? 1 : 2);
      }
    }
    figures.push(
      `together: ${overlapped} of ${trials} trials overlapped (one run refused), every trial left one complete set`,
    );
  });
});

describe('leftovers of killed runs', () => {
  it('are cleaned: orphan temp files in the cache and output folder, a stale lock, a staging folder', async () => {
    const out = path.join(dir, 'leftovers', 'out');
    const file = config('leftovers', out);
    expect((await genrep('leftovers: first run', ['run', '--quiet', file])).code).toBe(0);
    const pid = deadPid();
    // A cache entry a killed run was writing: its temp file is there, the entry is not.
    const entries = readdirSync(cache, { recursive: true, withFileTypes: true }).filter(
      (e) => e.isFile() && e.name.endsWith('.f32'),
    );
    const victim = entries[0]!;
    unlinkSync(path.join(victim.parentPath, victim.name));
    const orphan = path.join(victim.parentPath, `.${victim.name}.${pid}.0123456789ab.tmp`);
    const oldLive = path.join(victim.parentPath, `.${victim.name}.${process.pid}.00000000000a.tmp`);
    const freshLive = path.join(victim.parentPath, `.${victim.name}.${process.pid}.00000000000b.tmp`);
    for (const f of [orphan, oldLive, freshLive]) writeFileSync(f, 'half');
    utimesSync(oldLive, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    writeFileSync(path.join(out, `.results.json.${pid}.0123456789ab.tmp`), 'half');
    writeFileSync(
      path.join(path.dirname(out), '.out.genrep-lock'),
      JSON.stringify({ pid, host: os.hostname(), startedAt: 'then' }),
    );
    mkdirSync(path.join(path.dirname(out), `.out.staging.${pid}.0123456789ab`));
    writeFileSync(path.join(path.dirname(out), `.out.staging.${pid}.0123456789ab`, 'results.json'), 'partial');

    const again = await genrep('leftovers: run after a killed one', ['run', '--quiet', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(oldLive)).toBe(false);
    expect(existsSync(freshLive)).toBe(true); // a live writer's, left alone
    expect(existsSync(path.join(victim.parentPath, victim.name))).toBe(true);
    expectOneCompleteSet(out);
  });

  it('put the old set back when a killed run had moved it aside, even if this run then fails', async () => {
    const out = path.join(dir, 'half-swap', 'out');
    const file = config('half-swap', out);
    expect((await genrep('half swap: first run', ['run', '--quiet', file])).code).toBe(0);
    const before = snapshot(out);
    const pid = deadPid();
    renameSync(out, path.join(path.dirname(out), `.out.old.${pid}.0123456789ab`));
    mkdirSync(path.join(path.dirname(out), `.out.staging.${pid}.0123456789ab`));
    writeFileSync(
      path.join(path.dirname(out), '.out.genrep-lock'),
      JSON.stringify({ pid, host: os.hostname(), startedAt: 'then' }),
    );
    const failed = await genrep('half swap: run failing at its first write', ['run', '--quiet', file], {
      GENREP_TEST_ENOSPC_AT_WRITE: '1',
    });
    expect(isOneLineError(failed.stderr), failed.stderr).toBe(true);
    expect(snapshot(out)).toEqual(before);
    expectOneCompleteSet(out);
  });
});

describe('read-only output and cache folders', () => {
  it.runIf(canMount)('refuse in one line; a read-only cache that holds every entry still works', async () => {
    const ro = path.join(dir, 'ro');
    expect(mountTmpfs(ro, 'size=4m')).toBe(true);
    const out = path.join(ro, 'out');
    const roCache = path.join(ro, 'cache');
    expect(
      (await genrep('read-only: fill', ['run', '--quiet', config('ro-fill', out, { cacheDir: roCache })])).code,
    ).toBe(0);
    const before = snapshot(out);
    execFileSync('mount', ['-o', 'remount,ro', ro]);

    const intoRo = await genrep('read-only output', [
      'run',
      '--quiet',
      config('ro-out', out, { K_n: 2, cacheDir: cache }),
    ]);
    expect(isOneLineError(intoRo.stderr), intoRo.stderr).toBe(true);
    expect(intoRo.stderr).toMatch(/ro\/out: cannot write results there: .*ro: is on a read-only filesystem/);
    expect(snapshot(out)).toEqual(before);

    const newCache = await genrep('read-only cache, empty', [
      'run',
      '--quiet',
      config('ro-cache-new', path.join(dir, 'ro-out-1'), { cacheDir: path.join(ro, 'cache2') }),
    ]);
    expect(isOneLineError(newCache.stderr), newCache.stderr).toBe(true);
    expect(newCache.stderr).toMatch(/\/cacheDir: .*ro\/cache2: is on a read-only filesystem/);
    expect(existsSync(path.join(dir, 'ro-out-1'))).toBe(false);

    const fullCache = await genrep('read-only cache, complete', [
      'run',
      '--quiet',
      config('ro-cache-full', path.join(dir, 'ro-out-2'), { cacheDir: roCache }),
    ]);
    expect(fullCache.code, fullCache.stderr).toBe(0);
    expectOneCompleteSet(path.join(dir, 'ro-out-2'));

    const fb = await genrep('fbank --out on a read-only fs', ['fbank', wav(), '--out', path.join(ro, 'f.npy')]);
    expect(isOneLineError(fb.stderr), fb.stderr).toBe(true);
    expect(fb.stderr).toMatch(/ro\/f\.npy: is on a read-only filesystem/);
  });
});

function wav(): string {
  return path.join(data, 'fan', 'test', 'section_00_source_test_normal_0000_spd_200.wav');
}

describe('CLI --out paths', () => {
  it.each([
    ['a directory', (): string => dir, /genrep-hostile-results-\w+: is a directory, expected a file path/],
    [
      '/proc/version',
      (): string => '/proc/version',
      /^genrep: \/proc\/version: cannot write it: \/proc: is under \/proc, a pseudo-filesystem/,
    ],
    [
      'a new path under /proc',
      (): string => '/proc/genrep/f.npy',
      /^genrep: \/proc\/genrep\/f\.npy: cannot write it: \/proc\/genrep: is under \/proc/,
    ],
    [
      'a path below a file',
      (): string => path.join(wav(), 'f.npy'),
      /f\.npy: cannot write it: .*\.wav: already exists and is not a directory/,
    ],
    [
      '/etc/passwd/f.npy',
      (): string => '/etc/passwd/f.npy',
      /\/etc\/passwd\/f\.npy: cannot write it: \/etc\/passwd: already exists and is not a directory/,
    ],
  ])('fbank --out %s: one line, quickly', async (label, target, pattern) => {
    const result = await genrep(`fbank --out ${label}`, ['fbank', wav(), '--out', target()]);
    expect(isOneLineError(result.stderr), result.stderr).toBe(true);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(pattern);
    expect(result.ms).toBeLessThan(10_000);
    expect(existsSync('/proc/genrep')).toBe(false);
  });

  it('embed --out through the same writer', async () => {
    const result = await genrep('embed --out /proc/version', [
      'embed',
      wav(),
      '--model',
      'fbank-stats',
      '--out',
      '/proc/version',
    ]);
    expect(isOneLineError(result.stderr), result.stderr).toBe(true);
    expect(result.stderr).toMatch(/\/proc\/version: cannot write it/);
  });

  it('fbank --out with a full disk (injected ENOSPC) leaves no file and no temp file', async () => {
    const target = path.join(dir, 'enospc', 'f.npy');
    const result = await genrep('fbank --out, injected ENOSPC', ['fbank', wav(), '--out', target], {
      GENREP_TEST_ENOSPC_AT_WRITE: '1',
    });
    expect(isOneLineError(result.stderr), result.stderr).toBe(true);
    expect(result.stderr).toMatch(/enospc\/f\.npy: no space left on the device/);
    expect(readdirSync(path.dirname(target))).toEqual([]);
  });

  it.runIf(canMount)('fbank --out on a full tmpfs', async () => {
    const mnt = path.join(dir, 'full-fbank');
    expect(mountTmpfs(mnt, 'size=256k')).toBe(true);
    fill(mnt);
    const result = await genrep('fbank --out on a full tmpfs', ['fbank', wav(), '--out', path.join(mnt, 'f.npy')]);
    expect(isOneLineError(result.stderr), result.stderr).toBe(true);
    expect(result.stderr).toMatch(/full-fbank\/f\.npy: no space left on the device/);
    expect(readdirSync(mnt)).toEqual(['filler.bin']);
    expect(statSync(path.join(mnt, 'filler.bin')).size).toBeGreaterThan(0);
  });
});
