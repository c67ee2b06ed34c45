import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import { runExperiment } from '../../worker/src/experiments/run';
import { resolveSettings } from '../../worker/src/settings';
import { runCli, tempDir } from '../helpers/cli';
import { writeTinyDataset } from '../helpers/tinyDataset';

const tmp = tempDir('genrep-compare-');
let fileA: string;
let fileB: string;

/** A real run of the tiny dataset; the two runs differ in DN mode and MemMixup's K_s. */
async function run(name: string, extra: Record<string, unknown>): Promise<string> {
  const file = path.join(tmp.dir, `${name}.genrep.json`);
  const text = JSON.stringify({
    name,
    dataset: { root: 'data' },
    embedder: 'fbank-stats',
    cacheDir: 'cache',
    output: name,
    ...extra,
  });
  writeFileSync(file, text);
  const loaded = parseRunConfig(text, file);
  const outcome = await runExperiment(loaded, resolveSettings({ runConfig: loaded.config, env: process.env }));
  return outcome.resultsFile;
}

beforeAll(async () => {
  writeTinyDataset(path.join(tmp.dir, 'data'));
  fileA = await run('transductive', { dn: 'transductive', mixup: { K_s: 10, lambda: 0.9 } });
  fileB = await run('no-dn', { dn: 'none', mixup: { K_s: 5, lambda: 0.9 } });
}, 120_000);
afterAll(() => tmp.cleanup());

describe('genrep compare', () => {
  it('writes a self-contained compare.html with deltas, charts as SVG, changed clips and config differences', async () => {
    const out = tmp.file('compare.html');
    const { code, stdout, stderr } = await runCli(['compare', fileA, fileB, '--out', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^transductive → no-dn: hmean official \d+\.\d\d → \d+\.\d\d \(Δ (0\.00|[+−]\d+\.\d\d)\); \d+ changed decisions?; \d+ config differences?\nwrote /,
    );
    const html = readFileSync(out, 'utf8');
    expect(html).toContain("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"");
    expect(html).not.toMatch(/<script|\b(src|href)="https?:/);
    expect(html).toContain('data-testid="compare-delta-table"');
    for (const m of ['fan', 'pump']) {
      expect(html).toContain(`data-testid="compare-row-${m}"`);
      expect(html).toMatch(new RegExp(`data-testid="compare-roc-${m}"><svg`));
      expect(html).toMatch(new RegExp(`data-testid="compare-scatter-${m}"><svg`));
    }
    expect(html).toContain('data-testid="compare-row-hmean"');
    expect(html).toContain('data-testid="compare-changed"');
    const diff = html.slice(html.indexOf('data-testid="compare-config-diff"'));
    expect(diff).toMatch(
      /<code>\/dn<\/code><\/td><td><code>&quot;transductive&quot;<\/code><\/td><td><code>&quot;none&quot;<\/code>/,
    );
    expect(diff).toMatch(/<code>\/mixup\/K_s<\/code><\/td><td><code>10<\/code><\/td><td><code>5<\/code>/);
    // The run names and output folders differ, but where a run is is no difference.
    expect(diff).not.toContain('/output');
  });

  it('says that each further run is compared with the first', async () => {
    const out = tmp.file('compare3.html');
    const { code, stdout } = await runCli(['compare', fileA, fileB, fileA, '--out', out]);
    expect(code).toBe(0);
    // The second pair's ids carry its suffix, so every id on the page is unique.
    const ids = [...readFileSync(out, 'utf8').matchAll(/data-testid="([^"]*)"/g)].map((m) => m[1]!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'compare-config-diff-1',
        'compare-delta-table-1-0',
        'compare-row-fan-1-0',
        'compare-changed-1-0',
      ]),
    );
    expect(ids.every((id) => /^[A-Za-z0-9_.-]+$/.test(id))).toBe(true);
    expect(stdout.split('\n')[0]).toBe('A = transductive (transductive); each other run compared with A');
    expect(stdout).toMatch(
      /→ transductive \(transductive\): hmean official .*Δ 0\.00\); 0 changed decisions; 0 config differences/,
    );
  });

  it('refuses a single file and names a file that is not a results.json', async () => {
    const one = await runCli(['compare', fileA]);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toMatch(/two or more results\.json/);
    const bad = tmp.file('bad.json');
    writeFileSync(bad, '{"schemaVersion": 99}');
    const wrong = await runCli(['compare', fileA, bad]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('bad.json: results schemaVersion 99');
  });
});
