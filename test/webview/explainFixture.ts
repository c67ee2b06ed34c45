import type { ExplainResult } from '../../worker/src/protocol/explain';

/**
 * A hand-made explanation (the contract's shape, worker/src/protocol/explain.ts): 4 time steps of 0.5 s × 3 bands,
 * contributions with both signs; the grid sums to 1.2 = distance (no DN) or distance / σ (DN).
 */
export function explainFixture(dn = false): ExplainResult {
  // Row-major [time × band]; Σ = 1.2.
  const values = [0.1, -0.05, 0.05, 0.2, 0.1, 0, 0.4, 0.3, -0.1, 0.05, 0.1, 0.05];
  const std = 2;
  const distance = dn ? 1.2 * std : 1.2;
  return {
    clip: '/data/fan/test/section_00_target_test_anomaly_0003.wav',
    embedder: 'beats-iter3',
    layer: 9,
    pooling: 'temporal',
    K_n: 2,
    dn: dn ? 'inductive' : 'none',
    score: dn ? 1.2 - 0.5 / std : 1.2,
    distance,
    bank: 'target',
    dnStats: dn ? { mean: 0.5, std } : null,
    grid: {
      times: 4,
      bands: 3,
      values,
      timeSeconds: [0.25, 0.75, 1.25, 1.75],
      bandHz: [
        [0, 500],
        [500, 2000],
        [2000, 8000],
      ],
      decomposition: 'exact',
      residual: 0,
    },
    perTime: [0.1, 0.3, 0.6, 0.2],
    perBand: [0.75, 0.45, 0],
    neighbours: [
      {
        row: 12,
        bank: 'target',
        name: 'section_00_target_train_normal_0012.wav',
        path: '/data/fan/train/section_00_target_train_normal_0012.wav',
        distance: 1.1,
      },
      {
        row: 990,
        bank: 'target',
        name: 'mix(section_00_target_train_normal_0001.wav, section_00_source_train_normal_0200.wav, λ=0.9)',
        mix: {
          target: 'section_00_target_train_normal_0001.wav',
          source: 'section_00_source_train_normal_0200.wav',
          lambda: 0.9,
        },
        distance: 1.3,
      },
    ],
    source: { resultsFile: '/runs/r1/results.json', variant: 'default', machineType: 'fan' },
  };
}
