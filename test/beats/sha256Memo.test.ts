import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File, sha256FileMemo } from '../../worker/src/beats/modelCache';

describe('sha256FileMemo', () => {
  let dir: string;
  let memoDir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'genrep-sha-memo-'));
    memoDir = path.join(dir, 'memo');
    file = path.join(dir, 'checkpoint.pt');
    writeFileSync(file, Buffer.alloc(1 << 20, 7));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const memoFile = () => {
    const files = readdirSync(memoDir);
    expect(files).toHaveLength(1);
    return path.join(memoDir, files[0]!);
  };

  // Racy window 0 (the last argument) for the files written by these tests a moment ago; the default is tested last.
  it('hashes once, then answers from the memo while the file is unchanged', async () => {
    const truth = await sha256File(file);
    expect(await sha256FileMemo(file, memoDir, 0n)).toBe(truth);
    const memo = JSON.parse(readFileSync(memoFile(), 'utf8')) as Record<string, string>;
    expect(memo['sha256']).toBe(truth);
    // A planted answer comes back: the second call read the memo, not the 1 MB file.
    const planted = 'ab'.repeat(32);
    writeFileSync(memoFile(), JSON.stringify({ ...memo, sha256: planted }));
    expect(await sha256FileMemo(file, memoDir, 0n)).toBe(planted);
  });

  it('ignores a memo whose size, inode or timestamps differ from the file, and a corrupt memo', async () => {
    const truth = await sha256File(file);
    await sha256FileMemo(file, memoDir, 0n);
    const memo = JSON.parse(readFileSync(memoFile(), 'utf8')) as Record<string, string>;
    for (const field of ['size', 'ino', 'mtimeNs', 'ctimeNs', 'dev', 'file']) {
      writeFileSync(memoFile(), JSON.stringify({ ...memo, [field]: '1', sha256: 'cd'.repeat(32) }));
      expect(await sha256FileMemo(file, memoDir, 0n), field).toBe(truth);
    }
    writeFileSync(memoFile(), '{"sha256": "');
    expect(await sha256FileMemo(file, memoDir, 0n)).toBe(truth);
    writeFileSync(memoFile(), JSON.stringify({ ...memo, sha256: 'not hex' }));
    expect(await sha256FileMemo(file, memoDir, 0n)).toBe(truth);
  });

  it('does not remember a file written just now, whose next write could keep its timestamps', async () => {
    writeFileSync(file, 'first content');
    expect(await sha256FileMemo(file, memoDir)).toBe(await sha256File(file));
    expect(() => readdirSync(memoDir)).toThrow();
    writeFileSync(file, 'other content');
    expect(await sha256FileMemo(file, memoDir)).toBe(await sha256File(file));
  });

  it('hashes again after the file changes', async () => {
    expect(await sha256FileMemo(file, memoDir, 0n)).toBe(await sha256File(file));
    // A different size: a same-size rewrite within one timestamp tick is the racy case the window exists for.
    writeFileSync(file, Buffer.alloc((1 << 20) + 1, 8));
    expect(await sha256FileMemo(file, memoDir, 0n)).toBe(await sha256File(file));
  });

  it('names a missing file as sha256File does', async () => {
    const missing = path.join(dir, 'missing.pt');
    await expect(sha256FileMemo(missing, memoDir)).rejects.toThrow(/missing\.pt/);
  });
});
