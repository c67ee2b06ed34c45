import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CASES, HOSTILE_DIR, hostilePath, MAX_CORPUS_FILE_BYTES } from './corpus';

const UPDATE = process.env['UPDATE_HOSTILE_CORPUS'] === '1';

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(full).isDirectory() ? listFiles(full, rel) : [rel];
  });
}

describe('hostile corpus', () => {
  it('names each file once', () => {
    const names = ALL_CASES.map((c) => c.file);
    expect(new Set(names).size).toBe(names.length);
  });

  it('committed files equal what the generators make (UPDATE_HOSTILE_CORPUS=1 rewrites them)', () => {
    for (const c of ALL_CASES) {
      const bytes = c.bytes();
      expect(bytes.length, c.file).toBeLessThanOrEqual(MAX_CORPUS_FILE_BYTES);
      const file = hostilePath(c.file);
      if (UPDATE) {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, bytes);
      }
      expect(
        existsSync(file),
        `${c.file} is missing: run UPDATE_HOSTILE_CORPUS=1 npx vitest run test/hostile/corpus.test.ts`,
      ).toBe(true);
      expect(Buffer.compare(readFileSync(file), Buffer.from(bytes)), `${c.file} differs from its generator`).toBe(0);
    }
  });

  it('holds no file that no generator makes', () => {
    const known = new Set(ALL_CASES.map((c) => c.file));
    const stray = listFiles(HOSTILE_DIR).filter((f) => f !== 'README.md' && !known.has(f));
    expect(stray).toEqual([]);
  });
});
