import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GenrepError } from '../../worker/src/errors';
import { removeStaleTemps, writeFileAtomic } from '../../worker/src/io/atomicWrite';
import { resolveShard, shardOfHash, type ShardRequest } from '../../worker/src/experiments/shard';
import { CLI_MAIN, runCliBatch, runCliProcess, type CliResult } from '../helpers/cliProcess';

/**
 * `genrep run --shard i/n` (docs/scale.md) as a scheduler runs it: separate processes on one cache folder, at once,
 * one of them killed part-way; `--from-cache` then scores. Everything is compared with a single-process run of the
 * same config, byte for byte, less what differs by design (timestamps, timings, cache counts, the folder names).
 */
let dir: string;
let data: string;
const CLIPS = 54; // fan and pump: 15 train + 12 test each, written by synth below, counted twice over two machines

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-shards-'));
  data = path.join(dir, 'data');
  const synth = await runCliProcess(
    ['synth', '--out', data, '--machines', 'fan,pump', '--clips', '12,3,3', '--duration', '1'],
    { timeoutMs: 60_000 },
  );
  expect(synth.code, synth.stderr).toBe(0);
  expect(wavs()).toHaveLength(CLIPS);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function walk(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)],
  );
}

function wavs(): string[] {
  return walk(data).filter((f) => f.endsWith('.wav'));
}

/** A study folder with its own config, cache and output; the dataset is shared. */
function study(name: string): { config: string; cache: string; out: string } {
  const root = path.join(dir, name);
  mkdirSync(root, { recursive: true });
  const config = path.join(root, 'exp.genrep.json');
  const text = {
    dataset: { root: data },
    embedder: 'fbank-stats',
    mixup: { K_s: 10, lambda: 0.9 },
    cacheDir: 'cache',
    output: 'out',
  };
  writeFileSync(config, `${JSON.stringify(text, null, 2)}\n`);
  return { config, cache: path.join(root, 'cache'), out: path.join(root, 'out') };
}

async function genrep(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliProcess(args, { timeoutMs: 60_000, env });
}

/** The output folder's files as compared: results.json without what differs by design, the rest as bytes. */
function outputOf(out: string, studyName: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of walk(out)) {
    const name = path.relative(out, file);
    if (name === 'report.html') continue; // carries the timestamp and the cache counts in prose
    let text = readFileSync(file, 'utf8');
    if (name === 'results.json') {
      const results = JSON.parse(text) as Record<string, unknown>;
      for (const key of ['startedAt', 'finishedAt', 'timings', 'cache']) {
        expect(results).toHaveProperty(key);
        delete results[key];
      }
      text = JSON.stringify(results).replaceAll(path.join(dir, studyName), '<study>');
    }
    files.set(name, text);
  }
  return files;
}

let single: Map<string, string>;

describe('genrep run --shard i/n on one cache', () => {
  beforeAll(async () => {
    const s = study('single');
    const run = await genrep(['run', s.config, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    single = outputOf(s.out, 'single');
    expect([...single.keys()].sort()).toEqual([
      'anomaly_score_fan_section_00_test.csv',
      'anomaly_score_pump_section_00_test.csv',
      'decision_result_fan_section_00_test.csv',
      'decision_result_pump_section_00_test.csv',
      'results.json',
    ]);
  }, 60_000);

  it('3 shards at once, then --from-cache, write what a single process writes', async () => {
    const s = study('three');
    const shards = await Promise.all([0, 1, 2].map((i) => genrep(['run', s.config, '--shard', `${i}/3`])));
    let extracted = 0;
    for (const [i, run] of shards.entries()) {
      expect(run.code, run.stderr).toBe(0);
      const m = /^shard (\d)\/3: (\d+) clips extracted, 0 already cached, (\d+) left to other shards/.exec(run.stdout);
      expect(m, run.stdout).not.toBeNull();
      expect(Number(m?.[1])).toBe(i);
      expect(Number(m?.[2]) + Number(m?.[3])).toBe(CLIPS);
      expect(Number(m?.[2])).toBeGreaterThan(0); // 54 clips over 3 shards: an empty one would be a broken hash split
      extracted += Number(m?.[2]);
    }
    expect(extracted).toBe(CLIPS);
    // A shard scores nothing and writes no output folder.
    expect(existsSync(s.out)).toBe(false);
    expect(walk(s.cache).filter((f) => f.endsWith('.f32'))).toHaveLength(CLIPS);

    const scored = await genrep(['run', s.config, '--from-cache', '--quiet']);
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.stdout).toContain(`features: ${CLIPS} from cache, 0 extracted`);
    expect(outputOf(s.out, 'three')).toEqual(single);
  }, 60_000);

  it('a shard killed part-way (SIGKILL) and run again loses nothing and extracts nothing twice', async () => {
    const s = study('killed');
    const killed = await runCliBatch([['run', s.config, '--shard', '1/3', '--quiet']], {
      timeoutMs: 60_000,
      env: { GENREP_TEST_SIGKILL_AFTER_ENTRIES: '4' },
    });
    expect(killed.exit.signal).toBe('SIGKILL');
    expect(killed.results).toEqual([]);
    const written = walk(s.cache).filter((f) => f.endsWith('.f32'));
    expect(written).toHaveLength(4);

    // The same shard again, then the other two and the scoring, one after the other in one process.
    const rest = await runCliBatch(
      [
        ['run', s.config, '--shard', '1/3', '--quiet'],
        ['run', s.config, '--shard', '0/3', '--quiet'],
        ['run', s.config, '--shard', '2/3', '--quiet'],
        ['run', s.config, '--from-cache', '--quiet'],
      ],
      { timeoutMs: 60_000 },
    );
    expect(rest.results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const again = rest.results[0]?.stdout ?? '';
    expect(again).toMatch(/^shard 1\/3: [1-9]\d* clips extracted, 4 already cached, \d+ left to other shards/);
    expect(outputOf(s.out, 'killed')).toEqual(single);
  }, 60_000);

  it('--from-cache names a clip missing from the cache and exits 1; its shard then extracts only it', async () => {
    // The cache the three shards filled (the test above), one entry removed.
    const s = study('three');
    const clip = wavs().sort()[7] ?? '';
    const hash = createHash('sha256').update(readFileSync(clip)).digest('hex');
    const [entry, ...more] = walk(s.cache).filter((f) => path.basename(f) === `${hash}.f32`);
    expect(more).toEqual([]);
    rmSync(entry ?? '');

    const shard = shardOfHash(hash, 3);
    const runs = await runCliBatch(
      [
        ['run', s.config, '--from-cache', '--quiet'],
        ['run', s.config, '--shard', `${shard}/3`, '--quiet'],
        ['run', s.config, '--from-cache', '--quiet'],
      ],
      { timeoutMs: 60_000 },
    );
    const [refused, rerun, scored] = runs.results;
    expect(refused?.code).toBe(1);
    expect(refused?.stdout).toBe('');
    expect(refused?.stderr).toContain(`features of 1 of ${CLIPS} clips are not in the cache: ${clip};`);
    expect(refused?.stderr.trim().split('\n')).toHaveLength(1);
    expect(rerun?.stdout).toMatch(new RegExp(`^shard ${shard}/3: 1 clips extracted, \\d+ already cached`));
    expect(scored?.code, scored?.stderr).toBe(0);
    expect(outputOf(s.out, 'three')).toEqual(single);
  }, 60_000);

  it('--then-score: the last shard to finish scores once every clip is cached, the others say why not', async () => {
    const s = study('then');
    // Shards 0 and 1 first (one after the other in one process), so the cache is incomplete for them and complete for
    // shard 2, the last to finish.
    const early = await runCliBatch(
      [0, 1].map((i) => ['run', s.config, '--shard', `${i}/3`, '--then-score']),
      { timeoutMs: 60_000 },
    );
    expect(early.results).toHaveLength(2);
    for (const run of early.results) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/clips are not in the cache yet: other shards are still extracting/);
    }
    expect(existsSync(s.out)).toBe(false);
    const last = await genrep(['run', s.config, '--shard', '2/3', '--then-score', '--quiet']);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toContain('results: ');
    expect(outputOf(s.out, 'then')).toEqual(single);
    // All three again at once on the complete cache: each either scores or finds another scoring; none fails.
    const again = await Promise.all(
      [0, 1, 2].map((i) => genrep(['run', s.config, '--shard', `${i}/3`, '--then-score'])),
    );
    for (const run of again) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/results: |another shard \(pid \d+/);
    }
    expect(outputOf(s.out, 'then')).toEqual(single);
  }, 60_000);

  it('refuses flag mixes and an inconsistent count before any work', async () => {
    const s = study('flags');
    const cases: [string[], RegExp][] = [
      [['--from-cache', '--shard', '0/3'], /--from-cache .* does not go with --shard/],
      [['--then-score'], /--then-score goes with --shard/],
      [['--shard', '0/3', '--shard-count', '4'], /--shard 0\/3 names 3 shards but the declared count is 4/],
      [['--shard', '3/3'], /shard 3 is outside 0\.\.2/],
    ];
    const runs = await runCliBatch(
      cases.map(([flags]) => ['run', s.config, ...flags]),
      { timeoutMs: 60_000 },
    );
    cases.forEach(([, pattern], i) => {
      expect(runs.results[i]?.code).toBe(1);
      expect(runs.results[i]?.stderr).toMatch(pattern);
    });
    expect(existsSync(s.cache)).toBe(false);
  }, 60_000);
});

describe('concurrent writers of one cache entry', () => {
  it('identical writes from several processes and a reader during them: every read is absent or whole', async () => {
    const cacheDir = path.join(dir, 'race');
    const module = path.resolve(path.dirname(CLI_MAIN), '..', 'experiments', 'featureCache.js');
    // One entry of 64 Ki floats (256 KB, so a write takes many syscalls), its bytes a function of the index.
    const setup = `
      const { FeatureCache } = require(${JSON.stringify(module)});
      const dim = 65536;
      const cache = new FeatureCache(${JSON.stringify(cacheDir)}, { embedderId: 'race', pooling: 'temporal', channel: 0, dim });
      const expected = Float32Array.from({ length: dim }, (_, i) => Math.sin(i));
      const hash = 'ab'.repeat(32);`;
    const writer = `${setup}
      (async () => { for (let i = 0; i < 150; i++) await cache.put(hash, 1, expected); })();`;
    const reader = `${setup}
      (async () => {
        let whole = 0, absent = 0;
        for (let i = 0; i < 600; i++) {
          const got = await cache.get(hash, 1);
          if (got === undefined) { absent++; continue; }
          for (let j = 0; j < dim; j++) if (got[j] !== expected[j]) { console.log('torn at ' + j); process.exit(3); }
          whole++;
        }
        console.log(JSON.stringify({ whole, absent }));
      })();`;
    const node = (code: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const [r, ...writers] = await Promise.all([node(reader), node(writer), node(writer), node(writer)]);
    for (const w of writers) expect(w.code, w.stderr).toBe(0);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const counts = JSON.parse(r.stdout) as { whole: number; absent: number };
    expect(counts.whole + counts.absent).toBe(600);
    // Afterwards: the one entry, whole, and no temp file left by any writer.
    const files = walk(cacheDir);
    expect(files.filter((f) => f.endsWith('.f32')).map((f) => readFileSync(f).length)).toEqual([65536 * 4]);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});

describe('leftover temp files in a cache several machines write', () => {
  it("are removed by pid on this machine, by age alone when another machine's writer left them", async () => {
    const d = path.join(dir, 'temps');
    mkdirSync(d, { recursive: true });
    const dead = 2 ** 22 + 12_345; // above Linux's default pid_max (2^22): no such process
    const ours = `h${createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)}`;
    const names = {
      untaggedDead: `.a.f32.${dead}.0123456789ab.tmp`,
      oursDead: `.b.f32.${ours}.${dead}.0123456789ab.tmp`,
      otherHostYoung: `.c.f32.h00000000.${dead}.0123456789ab.tmp`,
      otherHostOld: `.d.f32.h00000000.${dead}.0123456789ab.tmp`,
    };
    for (const n of Object.values(names)) writeFileSync(path.join(d, n), 'half');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(path.join(d, names.otherHostOld), hourAgo, hourAgo);
    expect(ours).not.toBe('h00000000');
    expect(await removeStaleTemps(d)).toBe(3);
    expect(readdirSync(d)).toEqual([names.otherHostYoung]);
    // The cache's own writes carry this machine's tag, and leave nothing behind.
    await writeFileAtomic(path.join(d, 'e.f32'), 'whole', { tagHost: true });
    expect(readdirSync(d).sort()).toEqual([names.otherHostYoung, 'e.f32'].sort());
  });
});

describe('resolveShard: the flag and the schedulers’ variables', () => {
  const req = (shard: string | true | undefined, shardCount?: string): ShardRequest => ({ shard, shardCount });
  const refused = (request: ShardRequest, env: NodeJS.ProcessEnv, pattern: RegExp): void => {
    let error: unknown;
    try {
      resolveShard(request, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GenrepError);
    expect((error as GenrepError).message).toMatch(pattern);
  };

  it('is a whole run without --shard, even inside an array job', () => {
    expect(resolveShard(req(undefined), {})).toBeUndefined();
    expect(resolveShard(req(undefined), { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toBeUndefined();
  });

  it('reads i/n, which wins over the environment', () => {
    expect(resolveShard(req('2/5'), {})).toEqual({ index: 2, count: 5 });
    expect(resolveShard(req('0/1'), { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toEqual({
      index: 0,
      count: 1,
    });
    expect(resolveShard(req('1/3', '3'), { GENREP_SHARD_COUNT: '3' })).toEqual({ index: 1, count: 3 });
  });

  it('reads Slurm array variables, from SLURM_ARRAY_TASK_MIN when ids start elsewhere', () => {
    const slurm = { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3' };
    expect(resolveShard(req(true), slurm)).toEqual({ index: 2, count: 3 });
    expect(resolveShard(req(true), { ...slurm, SLURM_ARRAY_TASK_MIN: '1' })).toEqual({ index: 1, count: 3 });
    expect(resolveShard(req(true, '3'), slurm)).toEqual({ index: 2, count: 3 });
  });

  it("reads Kubernetes' JOB_COMPLETION_INDEX with a declared count", () => {
    expect(resolveShard(req(true, '4'), { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    expect(resolveShard(req(true), { JOB_COMPLETION_INDEX: '0', GENREP_SHARD_COUNT: '2' })).toEqual({
      index: 0,
      count: 2,
    });
    // The flag's count over the variable's.
    expect(resolveShard(req(true, '3'), { JOB_COMPLETION_INDEX: '0', GENREP_SHARD_COUNT: '2' })).toEqual({
      index: 0,
      count: 3,
    });
  });

  it('refuses what does not add up, naming the values', () => {
    refused(req('3/3'), {}, /--shard 3\/3: shard 3 is outside 0\.\.2/);
    refused(req('1-3'), {}, /--shard 1-3: expected i\/n/);
    refused(req('0/0'), {}, /at least 1/);
    refused(req('0/3', '4'), {}, /names 3 shards but the declared count is 4/);
    refused(req(undefined, '3'), {}, /--shard-count is given without --shard/);
    refused(req(true), {}, /neither is set/);
    refused(req(true), { JOB_COMPLETION_INDEX: '1' }, /JOB_COMPLETION_INDEX=1 is set but not the number of shards/);
    refused(req(true, '2'), { JOB_COMPLETION_INDEX: '2' }, /shard 2 is outside 0\.\.1/);
    refused(
      req(true),
      { JOB_COMPLETION_INDEX: 'x', GENREP_SHARD_COUNT: '2' },
      /JOB_COMPLETION_INDEX=x: expected a whole/,
    );
    refused(req(true), { SLURM_ARRAY_TASK_ID: '1' }, /SLURM_ARRAY_TASK_COUNT is not/);
    refused(req(true, '4'), { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' }, /COUNT is 3 but the declared/);
    refused(
      req(true),
      { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3' },
      /--array=0-<n-1>\): shard 3 is outside 0\.\.2/,
    );
    refused(
      req(true),
      { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3', JOB_COMPLETION_INDEX: '1', GENREP_SHARD_COUNT: '3' },
      /both SLURM_ARRAY_TASK_ID \(1\) and JOB_COMPLETION_INDEX \(1\)/,
    );
    refused(req(true), { GENREP_SHARD_COUNT: 'three', JOB_COMPLETION_INDEX: '0' }, /GENREP_SHARD_COUNT=three/);
  });

  it('splits clips by content hash, evenly enough over many', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const shard = shardOfHash(createHash('sha256').update(String(i)).digest('hex'), 3);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(900);
    expect(shardOfHash('00000000000a' + 'f'.repeat(52), 3)).toBe(10 % 3);
  });
});
