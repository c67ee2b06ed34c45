import { describe, expect, it } from 'vitest';
import type { Domain } from '../../worker/src/protocol/vocabulary';
import { buildBanks, exactKnn, exactKnnLeaveOneOut, scoreMachine } from '../../worker/src/scoring';
import { mean, naiveBanks, naiveKnn, naiveSectionBanks, popStd } from './bruteForce';
import { gaussian } from './random';

// Small machine: 40 source + 4 shifted target rows, 12 test clips, 6 dims.
const dim = 6;
const nSource = 40;
const nTarget = 4;
const train = new Float32Array((nSource + nTarget) * dim);
train.set(gaussian(nSource, dim, 21));
train.set(gaussian(nTarget, dim, 22, 1.5), nSource * dim);
// Interleave domains so row order and bank membership differ.
const order = Array.from({ length: nSource + nTarget }, (_, i) => i).sort((a, b) => ((a * 7) % 44) - ((b * 7) % 44));
const shuffled = new Float32Array(train.length);
const domains: Domain[] = [];
order.forEach((src, dst) => {
  shuffled.set(train.subarray(src * dim, (src + 1) * dim), dst * dim);
  domains.push(src < nSource ? 'source' : 'target');
});
const test = new Float32Array(12 * dim);
test.set(gaussian(6, dim, 23));
test.set(gaussian(6, dim, 24, 1.5), 6 * dim);

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i]!)));
}

describe('exact kNN with MemMixup (expanded, never materialised) against materialised brute force', () => {
  for (const [ks, kn] of [
    [0, 1],
    [7, 1],
    [7, 3],
    [40, 2],
  ] as const) {
    it(`K_s = ${ks}, K_n = ${kn}`, async () => {
      const banks = buildBanks({
        train: shuffled,
        dim,
        trainDomains: domains,
        kn,
        mixup: ks ? { K_s: ks, lambda: 0.9 } : null,
        index: 'exact',
      });
      const naive = naiveBanks(shuffled, dim, domains, ks, 0.9);
      expect(banks.bankSize(1)).toBe(naive.target.rows.length);
      const got = await exactKnn(banks, test, 12, { kn, withIds: true });
      const nq = 12;
      close(
        got.distances[0]!,
        Array.from({ length: nq }, (_, q) => naiveKnn(naive.source, test, q * dim, dim, kn)),
      );
      close(
        got.distances[1]!,
        Array.from({ length: nq }, (_, q) => naiveKnn(naive.target, test, q * dim, dim, kn)),
      );
      // Ids are bank-local, originals first then augmented rows i-major: check they point at the rows found.
      const vec = new Float64Array(dim);
      for (let q = 0; q < nq; q++) {
        let s = 0;
        for (let k = 0; k < kn; k++) {
          banks.rowVector(1, got.ids![1]![q * kn + k]!, vec);
          s += Math.hypot(...Array.from(vec, (v, c) => v - test[q * dim + c]!));
        }
        expect(s / kn).toBeCloseTo(got.distances[1]![q]!, 10);
      }
    });
  }

  it('leave-one-out skips the clip itself and every MemMixup row mixed from it', async () => {
    const ks = 7;
    const kn = 2;
    const banks = buildBanks({
      train: shuffled,
      dim,
      trainDomains: domains,
      kn,
      mixup: { K_s: ks, lambda: 0.9 },
      index: 'exact',
    });
    const naive = naiveBanks(shuffled, dim, domains, ks, 0.9);
    const loo = await exactKnnLeaveOneOut(banks, { kn });
    const n = nSource + nTarget;
    close(
      loo.distances[0]!,
      Array.from({ length: n }, (_, c) => naiveKnn(naive.source, shuffled, c * dim, dim, kn, c)),
    );
    close(
      loo.distances[1]!,
      Array.from({ length: n }, (_, c) => naiveKnn(naive.target, shuffled, c * dim, dim, kn, c)),
    );
  });
});

describe('domain normalisation modes', () => {
  const ks = 7;
  const kn = 2;
  const banks = buildBanks({ train: shuffled, dim, trainDomains: domains, kn, mixup: { K_s: ks, lambda: 0.9 } });
  const naive = naiveBanks(shuffled, dim, domains, ks, 0.9);
  const ds = Array.from({ length: 12 }, (_, q) => naiveKnn(naive.source, test, q * dim, dim, kn));
  const dt = Array.from({ length: 12 }, (_, q) => naiveKnn(naive.target, test, q * dim, dim, kn));

  it('transductive: z-scores with mean / population std over the test clips, min of the two', async () => {
    const r = await scoreMachine({ banks, test, dnMode: 'transductive' });
    expect(r.dnMode).toBe('transductive');
    expect(r.statsFrom).toBe('test');
    const expected = ds.map((d, i) => Math.min((d - mean(ds)) / popStd(ds), (dt[i]! - mean(dt)) / popStd(dt)));
    close(r.score, expected);
  });

  it('inductive: statistics from domain-balanced leave-one-out training distances, no test statistics', async () => {
    const r = await scoreMachine({ banks, test, dnMode: 'inductive' });
    expect(r.statsFrom).toBe('train-leave-one-out');
    const n = nSource + nTarget;
    const w = domains.map((d) => 0.5 / (d === 'source' ? nSource : nTarget));
    const looS = Array.from({ length: n }, (_, c) => naiveKnn(naive.source, shuffled, c * dim, dim, kn, c));
    const looT = Array.from({ length: n }, (_, c) => naiveKnn(naive.target, shuffled, c * dim, dim, kn, c));
    const [ms, ss, mt, st] = [mean(looS, w), popStd(looS, w), mean(looT, w), popStd(looT, w)];
    close([r.stats![0]!.mean, r.stats![0]!.std, r.stats![1]!.mean, r.stats![1]!.std], [ms, ss, mt, st]);
    close(
      r.score,
      ds.map((d, i) => Math.min((d - ms) / ss, (dt[i]! - mt) / st)),
    );
    // Scoring a single clip gives the same score: nothing depends on the other test clips.
    const one = await scoreMachine({ banks, test: test.subarray(5 * dim, 6 * dim), dnMode: 'inductive' });
    expect(one.score[0]).toBeCloseTo(r.score[5]!, 12);
  });

  it('none: min of the raw distances', async () => {
    const r = await scoreMachine({ banks, test, dnMode: 'none' });
    expect(r.stats).toBeNull();
    close(
      r.score,
      ds.map((d, i) => Math.min(d, dt[i]!)),
    );
  });

  it("decision threshold: the quantile of the training clips' leave-one-out scores under the same DN", async () => {
    const r = await scoreMachine({ banks, test, dnMode: 'none', threshold: { quantile: 0.5 } });
    const n = nSource + nTarget;
    const loo = Array.from({ length: n }, (_, c) =>
      Math.min(
        naiveKnn(naive.source, shuffled, c * dim, dim, kn, c),
        naiveKnn(naive.target, shuffled, c * dim, dim, kn, c),
      ),
    );
    close(r.trainScores!, loo);
    const sorted = [...loo].sort((a, b) => a - b);
    expect(r.threshold).toBeCloseTo((sorted[21]! + sorted[22]!) / 2, 12); // n = 44: median of the two middle values
  });
});

describe('DCASE 2020 variants', () => {
  const sections = Array.from({ length: nSource + nTarget }, (_, i) => ['id_04', 'id_00', 'id_02'][i % 3]!);

  it('section-label normalisation: one bank per section, min of per-section transductive z-scores', async () => {
    const banks = buildBanks({ train: shuffled, dim, trainSections: sections, kn: 2 });
    expect(banks.kind).toBe('section');
    const r = await scoreMachine({ banks, test, dnMode: 'transductive' });
    expect(r.bankNames).toEqual(['id_00', 'id_02', 'id_04']);
    const naive = naiveSectionBanks(shuffled, dim, sections);
    const z = r.bankNames.map((name) => {
      const d = Array.from({ length: 12 }, (_, q) => naiveKnn(naive.get(name)!, test, q * dim, dim, 2));
      return d.map((v) => (v - mean(d)) / popStd(d));
    });
    close(
      r.score,
      z[0]!.map((_, q) => Math.min(z[0]![q]!, z[1]![q]!, z[2]![q]!)),
    );
  });

  it('label-free: plain kNN distance to all training clips', async () => {
    const banks = buildBanks({ train: shuffled, dim, kn: 3 });
    expect(banks.kind).toBe('pooled');
    const r = await scoreMachine({ banks, test, dnMode: 'none' });
    const all = {
      rows: Array.from({ length: nSource + nTarget }, (_, i) =>
        Float64Array.from(shuffled.subarray(i * dim, (i + 1) * dim)),
      ),
      madeFrom: [] as number[][],
    };
    all.madeFrom = all.rows.map((_, i) => [i]);
    close(
      r.score,
      Array.from({ length: 12 }, (_, q) => naiveKnn(all, test, q * dim, dim, 3)),
    );
  });
});
