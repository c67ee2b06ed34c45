import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../worker/src/io/npy';
import { runCli, readJson, scoreFeaturesArgs, tempDir } from '../helpers/cli';
import { loadGoldenScoring, maxRelativeError } from './goldenHelpers';

const golden = loadGoldenScoring();
const tmp = tempDir('genrep-score-cli-');
const f = tmp.file;

beforeAll(async () => {
  await writeNpy(f('train.npy'), golden.train, [golden.train.length / golden.dim, golden.dim]);
  await writeNpy(f('test.npy'), golden.test, [golden.test.length / golden.dim, golden.dim]);
  writeFileSync(f('D.txt'), golden.trainDomains.join('\n') + '\n');
  writeFileSync(f('L.txt'), golden.testLabels.join('\n') + '\n');
  writeFileSync(f('T.txt'), golden.testDomains.join('\n') + '\n');
});
afterAll(() => tmp.cleanup());

interface ScoresJson {
  d_source: number[];
  d_target: number[];
  score: number[];
  dn_mode: string;
}

describe('golden scoring through the CLI (score-features → metrics)', () => {
  for (const c of golden.cases) {
    it(c.name, async () => {
      for (const [dn, scoreName, expectedMetrics] of [
        ['transductive', 'score_dn', c.metricsDn],
        ['none', 'score_nodn', c.metricsNodn],
      ] as const) {
        const out = f(`${c.name}_${dn}.json`);
        const args = scoreFeaturesArgs(f, ['--kn', String(c.kn), '--dn', dn, '--index', 'exact', '--out', out]);
        if (c.ks > 0) args.push('--mixup-ks', String(c.ks), '--mixup-lambda', String(c.lambda));
        const run = await runCli(args);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const scores = readJson<ScoresJson>(out);
        expect(scores.dn_mode).toBe(dn);
        expect(maxRelativeError(scores.d_source, golden.set.f32(`${c.name}/d_source`).data)).toBeLessThan(1e-5);
        expect(maxRelativeError(scores.d_target, golden.set.f32(`${c.name}/d_target`).data)).toBeLessThan(1e-5);
        expect(maxRelativeError(scores.score, golden.set.f32(`${c.name}/${scoreName}`).data)).toBeLessThan(1e-5);

        const metricsOut = f(`${c.name}_${dn}_metrics.json`);
        const m = await runCli([
          'metrics',
          '--scores',
          out,
          '--labels',
          f('L.txt'),
          '--domains',
          f('T.txt'),
          '--out',
          metricsOut,
        ]);
        expect(m.code).toBe(0);
        const metrics = readJson<Record<string, number>>(metricsOut);
        for (const key of ['auc', 'pauc', 'auc_source', 'auc_target', 'official']) {
          expect(Math.abs(metrics[key]! - expectedMetrics[key]!), `${c.name} ${dn} ${key}`).toBeLessThan(1e-9);
        }
      }
    });
  }

  it('metrics reads .npy scores and prints to stdout when --out is absent', async () => {
    await writeNpy(f('scores.npy'), golden.set.f32('Ks990_Kn1/score_dn').data, [200]);
    const run = await runCli([
      'metrics',
      '--scores',
      f('scores.npy'),
      '--labels',
      f('L.txt'),
      '--domains',
      f('T.txt'),
      '--roc',
    ]);
    expect(run.code).toBe(0);
    const metrics = JSON.parse(run.stdout) as Record<string, number> & {
      roc: { fpr: number[]; tpr: number[]; thresholds: (number | null)[] };
    };
    const expected = golden.cases.find((c) => c.name === 'Ks990_Kn1')!.metricsDn;
    for (const key of ['auc', 'pauc', 'auc_source', 'auc_target', 'official'])
      expect(Math.abs(metrics[key]! - expected[key]!)).toBeLessThan(1e-9);
    expect(metrics.roc.fpr[0]).toBe(0);
    expect(metrics.roc.fpr[metrics.roc.fpr.length - 1]).toBe(1);
    expect(metrics.roc.thresholds[0]).toBeNull();
  });

  it('metrics without --domains gives auc and pauc only', async () => {
    const run = await runCli(['metrics', '--scores', f('scores.npy'), '--labels', f('L.txt')]);
    expect(run.code).toBe(0);
    const metrics = JSON.parse(run.stdout) as Record<string, number | null>;
    expect(metrics['auc']).toBeCloseTo(golden.cases.find((c) => c.name === 'Ks990_Kn1')!.metricsDn['auc']!, 12);
    expect(metrics['auc_source']).toBeNull();
    expect(metrics['official']).toBeNull();
  });

  it('score-features saves a bank that scores new clips identically without the training features', async () => {
    const direct = f('direct.json');
    const common = ['--kn', '3', '--mixup-ks', '100', '--dn', 'inductive'];
    const saveBank = ['--save-bank', f('m.grbank'), '--layer', '4', '--embedder', 'beats_ft1', '--pooling', 'temporal'];
    expect((await runCli(scoreFeaturesArgs(f, [...common, ...saveBank, '--out', direct]))).code).toBe(0);
    const viaBank = f('viaBank.json');
    const run = await runCli(
      scoreFeaturesArgs(f, ['--dn', 'inductive', '--out', viaBank], {
        train: null,
        'train-domains': null,
        bank: 'm.grbank',
      }),
    );
    expect(run.stderr).toBe('');
    const a = readJson<ScoresJson>(direct);
    const b = readJson<ScoresJson>(viaBank);
    expect(b.score).toEqual(a.score);
    expect(b.d_target).toEqual(a.d_target);
  });

  it('score-features writes a decision threshold and decisions on request', async () => {
    const out = f('thr.json');
    const run = await runCli(scoreFeaturesArgs(f, ['--dn', 'none', '--threshold-quantile', '0.9', '--out', out]));
    expect(run.code).toBe(0);
    const j = readJson<{ threshold: number; threshold_quantile: number; decision: number[]; score: number[] }>(out);
    expect(j.threshold_quantile).toBe(0.9);
    expect(j.decision).toEqual(j.score.map((s) => (s > j.threshold ? 1 : 0)));
    expect(j.decision.some((d) => d === 1)).toBe(true);
  });
});

describe('score-features DCASE 2020 variants', () => {
  it('--train-sections: one bank per section, distances per section in the JSON', async () => {
    writeFileSync(f('S.txt'), Array.from({ length: 1000 }, (_, i) => (i % 2 ? 'id_02' : 'id_00')).join('\n'));
    const out = f('sections.json');
    const run = await runCli(
      scoreFeaturesArgs(f, ['--dn', 'transductive', '--out', out], {
        'train-domains': null,
        'train-sections': 'S.txt',
      }),
    );
    expect(run.stderr).toBe('');
    const j = readJson<{ distances: Record<string, number[]>; score: number[]; kind: string }>(out);
    expect(j.kind).toBe('section');
    expect(Object.keys(j.distances)).toEqual(['id_00', 'id_02']);
    const z = Object.values(j.distances).map((d) => {
      const m = d.reduce((a, b) => a + b, 0) / d.length;
      const s = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / d.length);
      return d.map((v) => (v - m) / s);
    });
    j.score.forEach((v, i) => expect(v).toBeCloseTo(Math.min(z[0]![i]!, z[1]![i]!), 10));
  });

  it('no domains or sections: label-free kNN over all training clips', async () => {
    const out = f('pooled.json');
    const run = await runCli(scoreFeaturesArgs(f, ['--dn', 'none', '--out', out], { 'train-domains': null }));
    expect(run.code).toBe(0);
    const j = readJson<{ distances: { all: number[] }; score: number[]; kind: string }>(out);
    expect(j.kind).toBe('pooled');
    expect(j.score).toEqual(j.distances.all);
    // K_n = 1 over all rows = the smaller of the nearest source and nearest target distance (golden Ks0_Kn1).
    expect(maxRelativeError(j.score, golden.set.f32('Ks0_Kn1/score_nodn').data)).toBeLessThan(1e-5);
  });
});
