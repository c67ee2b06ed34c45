import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GenrepError } from '../../worker/src/errors';
import { ResultSet } from '../../worker/src/experiments/resultSet';
import { removeStaleTemps, writeFileAtomic } from '../../worker/src/io/atomicWrite';

let dir: string;
let out: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-resultset-'));
  out = path.join(dir, 'out');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

async function writeSet(tag: string): Promise<void> {
  const set = await ResultSet.open(out);
  try {
    await writeFileAtomic(
      path.join(set.dir, 'results.json'),
      `{"tag":"${tag}","outputs":["results.json","report.html"]}\n`,
    );
    await writeFileAtomic(path.join(set.dir, 'report.html'), `<p>${tag}</p>\n`);
    await set.commit();
  } finally {
    await set.abort();
  }
}

/** The report.html of the result set in `folder`. */
function reportIn(folder: string): string {
  return readFileSync(path.join(folder, 'report.html'), 'utf8');
}

/** Everything next to the output folder that is not the folder itself (lock, staging, backup). */
function besideOut(): string[] {
  return readdirSync(dir).filter((n) => n !== 'out');
}

describe('ResultSet', () => {
  it('writes a new folder, then replaces it as a whole, leaving nothing beside it', async () => {
    await writeSet('a');
    expect(reportIn(out)).toBe('<p>a</p>\n');
    writeFileSync(path.join(out, 'anomaly_score_fan_section_00_test.csv'), 'old\n');
    await writeSet('b');
    expect(readdirSync(out).sort()).toEqual(['report.html', 'results.json']);
    expect(reportIn(out)).toBe('<p>b</p>\n');
    expect(besideOut()).toEqual([]);
  });

  it('leaves the old set untouched when the run fails before commit', async () => {
    await writeSet('a');
    const set = await ResultSet.open(out);
    await writeFileAtomic(path.join(set.dir, 'report.html'), '<p>half</p>\n');
    await set.abort();
    expect(reportIn(out)).toBe('<p>a</p>\n');
    expect(besideOut()).toEqual([]);
  });

  it('refuses a second writer while the first holds the folder, naming its pid', async () => {
    const first = await ResultSet.open(out);
    await expect(ResultSet.open(out)).rejects.toThrow(
      new RegExp(`out: another run \\(pid ${process.pid} on .*\\) is writing results here`),
    );
    await first.abort();
    const again = await ResultSet.open(out);
    await again.abort();
  });

  it('takes over a lock and a staging folder left by a killed run', async () => {
    const pid = deadPid();
    writeFileSync(path.join(dir, '.out.genrep-lock'), JSON.stringify({ pid, host: os.hostname(), startedAt: 'then' }));
    mkdirSync(path.join(dir, `.out.staging.${pid}.0123456789ab`));
    writeFileSync(path.join(dir, `.out.staging.${pid}.0123456789ab`, 'results.json'), 'partial');
    await writeSet('a');
    expect(besideOut()).toEqual([]);
  });

  it('does not take over a lock whose process is alive', async () => {
    writeFileSync(
      path.join(dir, '.out.genrep-lock'),
      JSON.stringify({ pid: process.ppid, host: os.hostname(), startedAt: 'now' }),
    );
    await expect(ResultSet.open(out)).rejects.toThrow(new RegExp(`pid ${process.ppid}.*delete .*\\.out\\.genrep-lock`));
  });

  it('puts the old set back when a swap was cut off between its two renames', async () => {
    await writeSet('a');
    const pid = deadPid();
    renameSync(out, path.join(dir, `.out.old.${pid}.0123456789ab`));
    writeFileSync(path.join(dir, '.out.genrep-lock'), JSON.stringify({ pid, host: os.hostname(), startedAt: 'then' }));
    const set = await ResultSet.open(out);
    expect(reportIn(out)).toBe('<p>a</p>\n');
    await set.abort();
    expect(besideOut()).toEqual([]);
  });

  it('refuses a folder holding files a run did not write, and keeps them', async () => {
    mkdirSync(out);
    writeFileSync(path.join(out, 'notes.txt'), 'mine');
    writeFileSync(path.join(out, 'results.json'), '{}');
    await expect(ResultSet.open(out)).rejects.toThrow(
      /out: holds files that genrep run did not write \("notes\.txt"\); a run replaces the whole output folder/,
    );
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(besideOut()).toEqual([]);
  });

  it('refuses files put into the folder while the run computed', async () => {
    await writeSet('a');
    const set = await ResultSet.open(out);
    await writeFileAtomic(path.join(set.dir, 'report.html'), '<p>b</p>\n');
    writeFileSync(path.join(out, 'draft.md'), 'mine');
    await expect(set.commit()).rejects.toThrow(/"draft\.md"/);
    await set.abort();
    expect(reportIn(out)).toBe('<p>a</p>\n');
    expect(besideOut()).toEqual([]);
  });

  it('counts as ours the outputs an earlier results.json lists, temp files and file-browser metadata', async () => {
    mkdirSync(out);
    writeFileSync(path.join(out, 'results.json'), JSON.stringify({ outputs: ['results.json', 'extra_plot.svg'] }));
    writeFileSync(path.join(out, 'extra_plot.svg'), '<svg/>');
    writeFileSync(path.join(out, '.DS_Store'), '');
    writeFileSync(path.join(out, `.report.html.${deadPid()}.0123456789ab.tmp`), 'half');
    await writeSet('a');
    expect(readdirSync(out).sort()).toEqual(['report.html', 'results.json']);
  });

  it('refuses a file, the root and a path under /proc in one line each', async () => {
    writeFileSync(out, 'a file');
    await expect(ResultSet.open(out)).rejects.toThrow(/out: already exists and is not a folder/);
    await expect(ResultSet.open('/')).rejects.toThrow(/^\/: is the filesystem root/);
    await expect(ResultSet.open('/proc/genrep/x')).rejects.toThrow(
      /^\/proc\/genrep\/x: cannot write results there: \/proc\/genrep: is under \/proc/,
    );
  });

  it('swaps the folder a symbolic link points to, keeping the link, and keeps the folder mode', async () => {
    const real = path.join(dir, 'real');
    mkdirSync(real);
    chmodSync(real, 0o750);
    symlinkSync(real, out);
    await writeSet('a');
    expect(reportIn(out)).toBe('<p>a</p>\n');
    expect(reportIn(real)).toBe('<p>a</p>\n');
    expect(statSync(real).mode & 0o777).toBe(0o750);
    expect(readdirSync(dir).sort()).toEqual(['out', 'real']);
  });

  it('tells errors about staging files in terms of the output folder', async () => {
    const set = await ResultSet.open(out);
    const err = set.inUserTerms(
      new GenrepError(`${set.dir}/results.json: no space`, 'BAD_INPUT', { file: `${set.dir}/results.json` }),
    ) as Error;
    expect(err.message).toBe(`${out}/results.json: no space`);
    await set.abort();
  });
});

describe('stale temp files', () => {
  it('removes those of dead processes and old ones, and keeps a live writer’s', async () => {
    const dead = `.a.f32.${deadPid()}.0123456789ab.tmp`;
    const oldLive = `.b.f32.${process.pid}.0123456789ab.tmp`;
    const freshLive = `.c.f32.${process.pid}.0123456789ab.tmp`;
    for (const name of [dead, oldLive, freshLive, 'keep.tmp', '.x.tmp']) writeFileSync(path.join(dir, name), '');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(path.join(dir, oldLive), hourAgo, hourAgo);
    expect(await removeStaleTemps(dir)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(
      ['.c.f32.' + process.pid + '.0123456789ab.tmp', '.x.tmp', 'keep.tmp'].sort(),
    );
    expect(existsSync(path.join(dir, dead))).toBe(false);
  });
});
