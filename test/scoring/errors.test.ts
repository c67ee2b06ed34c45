import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenrepError } from '../../worker/src/errors';
import { writeNpy } from '../../worker/src/io/npy';
import { dcaseMetrics, rocAuc } from '../../worker/src/metrics';
import type { Domain } from '../../worker/src/protocol/vocabulary';
import { buildBanks, scoreMachine } from '../../worker/src/scoring';
import { readJson, runCli, scoreFeaturesArgs, tempDir } from '../helpers/cli';
import { gaussian } from './random';

const dim = 4;
const train = gaussian(30, dim, 41);
const domains: Domain[] = Array.from({ length: 30 }, (_, i) => (i < 27 ? 'source' : 'target'));
const test = gaussian(10, dim, 42);
const tmp = tempDir('genrep-score-errors-');
const f = tmp.file;

beforeAll(async () => {
  await writeNpy(f('train.npy'), train, [30, dim]);
  await writeNpy(f('test.npy'), test, [10, dim]);
  writeFileSync(f('D.txt'), domains.join('\n') + '\n');
  writeFileSync(f('D29.txt'), domains.slice(0, 29).join('\n') + '\n');
  writeFileSync(f('Dsrc.txt'), domains.map(() => 'source').join('\n'));
  writeFileSync(f('Dbad.txt'), domains.map((d, i) => (i === 4 ? 'sorce' : d)).join('\n'));
  writeFileSync(f('L.txt'), Array.from({ length: 10 }, (_, i) => (i % 2 ? 1 : 0)).join('\n'));
  writeFileSync(f('L9.txt'), Array.from({ length: 9 }, (_, i) => (i % 2 ? 1 : 0)).join('\n'));
  writeFileSync(f('L0.txt'), Array.from({ length: 10 }, () => 0).join('\n'));
  writeFileSync(f('T.txt'), Array.from({ length: 10 }, (_, i) => (i < 5 ? 'source' : 'target')).join('\n'));
  writeFileSync(f('T11.txt'), Array.from({ length: 11 }, () => 'source').join('\n'));
  writeFileSync(f('scores.json'), JSON.stringify({ score: Array.from({ length: 10 }, (_, i) => i) }));
});
afterAll(() => tmp.cleanup());

const score = (...extra: string[]) => runCli(scoreFeaturesArgs(f, extra));

async function expectLibError(fn: () => unknown, pattern: RegExp, field?: string): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GenrepError);
  expect((caught as GenrepError).message).toMatch(pattern);
  if (field) expect((caught as GenrepError).data.field).toBe(field);
}

describe('bad input: each a clear error naming the file or field', () => {
  it('domain file with a different row count than the features', async () => {
    const run = await runCli(scoreFeaturesArgs(f, [], { 'train-domains': 'D29.txt' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/D29\.txt: has 29 lines but .*train\.npy has 30 rows/);
    await expectLibError(
      () => buildBanks({ train, dim, trainDomains: domains.slice(1), names: { train: 'X.npy', trainLabels: 'D.txt' } }),
      /D\.txt: has 29 entries but X\.npy has 30 rows/,
      'rows',
    );
  });

  it('labels / domains files with a different count than the scores', async () => {
    let run = await runCli(['metrics', '--scores', f('scores.json'), '--labels', f('L9.txt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/L9\.txt: has 9 labels but .*scores\.json has 10 scores/);
    run = await runCli(['metrics', '--scores', f('scores.json'), '--labels', f('L.txt'), '--domains', f('T11.txt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/T11\.txt: has 11 domains/);
  });

  it('a domain that is neither source nor target, with its line number', async () => {
    const run = await runCli(scoreFeaturesArgs(f, [], { 'train-domains': 'Dbad.txt' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Dbad\.txt: line 5 is 'sorce'/);
  });

  it('a bank with fewer rows than K_n', async () => {
    const run = await score('--kn', '4'); // 3 target rows
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/train\.npy: the target bank has 3 rows, fewer than K_n = 4/);
    await expectLibError(
      () => buildBanks({ train, dim, trainDomains: domains, kn: 4 }),
      /target bank has 3 rows, fewer than K_n = 4/,
      'kn',
    );
  });

  it('a source bank with fewer rows than K_s', async () => {
    const run = await score('--mixup-ks', '28');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/train\.npy: the source bank has 27 rows, fewer than K_s = 28/);
    await expectLibError(
      () => buildBanks({ train, dim, trainDomains: domains, mixup: { K_s: 28, lambda: 0.9 } }),
      /fewer than K_s = 28/,
      'mixup-ks',
    );
  });

  it('NaN or infinite features, with row and column', async () => {
    const bad = train.slice();
    bad[5 * dim + 2] = NaN;
    await writeNpy(f('nan.npy'), bad, [30, dim]);
    const run = await runCli(scoreFeaturesArgs(f, [], { train: 'nan.npy' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/nan\.npy: row 5, column 2 is NaN/);
    const badTest = test.slice();
    badTest[3] = Infinity;
    const banks = buildBanks({ train, dim, trainDomains: domains });
    await expectLibError(
      () => scoreMachine({ banks, test: badTest, dnMode: 'none', names: { test: 'Y.npy' } }),
      /Y\.npy: row 0, column 3 is Infinity/,
    );
  });

  it('a test set with only one class: AUC undefined, said so (no 0.5)', async () => {
    const run = await runCli([
      'metrics',
      '--scores',
      f('scores.json'),
      '--labels',
      f('L0.txt'),
      '--domains',
      f('T.txt'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/L0\.txt: AUC is undefined: the clips are all normal/);
    await expectLibError(() => rocAuc([1, 2, 3], [1, 1, 1]), /undefined: the clips are all anomalous/, 'labels');
    // Both classes overall but no target-domain normals: the target AUC is undefined.
    await expectLibError(
      () =>
        dcaseMetrics({ scores: [1, 2, 3, 4], labels: [0, 1, 0, 1], domains: ['source', 'target', 'source', 'target'] }),
      /target AUC .* undefined/,
    );
  });

  it('an empty target bank with DN on; DN none scores against the source bank alone', async () => {
    const run = await runCli(scoreFeaturesArgs(f, ['--dn', 'transductive'], { 'train-domains': 'Dsrc.txt' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/train\.npy: the target bank is empty; domain normalisation needs/);
    const ok = await runCli(
      scoreFeaturesArgs(f, ['--dn', 'none', '--out', f('src.json')], { 'train-domains': 'Dsrc.txt' }),
    );
    expect(ok.code).toBe(0);
    const j = readJson<{ d_source: number[]; d_target: null; score: number[] }>(f('src.json'));
    expect(j.d_target).toBeNull();
    expect(j.score).toEqual(j.d_source);
  });

  it('mismatched dimensions between a saved bank and new features', async () => {
    expect((await score('--dn', 'none', '--save-bank', f('b.grbank'), '--out', f('o.json'))).code).toBe(0);
    await writeNpy(f('test5.npy'), gaussian(10, 5, 1), [10, 5]);
    const run = await runCli(['score-features', '--bank', f('b.grbank'), '--test', f('test5.npy'), '--dn', 'none']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/test5\.npy: features have 5 dimensions but the bank \(.*b\.grbank\) has 4/);
  });

  it('a corrupt or truncated bank file', async () => {
    const bytes = readFileSync(f('b.grbank'));
    writeFileSync(f('trunc.grbank'), bytes.subarray(0, bytes.length - 7));
    let run = await runCli(['score-features', '--bank', f('trunc.grbank'), '--test', f('test.npy'), '--dn', 'none']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/trunc\.grbank: truncated/);
    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length - 40]! ^= 1;
    writeFileSync(f('corrupt.grbank'), corrupt);
    run = await runCli(['score-features', '--bank', f('corrupt.grbank'), '--test', f('test.npy'), '--dn', 'none']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/corrupt\.grbank: checksum mismatch/);
  });

  it('unknown DN mode and index choice', async () => {
    expect((await score('--dn', 'both')).stderr).toMatch(/--dn: expected one of transductive, inductive, none/);
    expect((await score('--index', 'faiss')).stderr).toMatch(/--index: expected one of exact, hnsw, auto/);
  });

  it('zero spread under transductive DN (a single test clip)', async () => {
    const banks = buildBanks({ train, dim, trainDomains: domains });
    await expectLibError(
      () => scoreMachine({ banks, test: test.subarray(0, dim), dnMode: 'transductive' }),
      /zero spread/,
      'dn',
    );
  });
});
