import { describe, expect, it } from 'vitest';
import type { Domain } from '../../worker/src/protocol/vocabulary';
import { buildBanks, gramBackend, scoreLayers, scoreMachine } from '../../worker/src/scoring';
import { gaussian } from './random';

describe('scoreLayers', () => {
  it('scores each layer independently, as scoreMachine does per layer', async () => {
    const dim = 5;
    const domains: Domain[] = Array.from({ length: 40 }, (_, i) => (i < 36 ? 'source' : 'target'));
    const layers = [0, 1, 2].map((l) => ({ train: gaussian(40, dim, 60 + l), test: gaussian(8, dim, 70 + l, 0.5) }));
    const done: number[] = [];
    const res = await scoreLayers({
      layers,
      dim,
      trainDomains: domains,
      kn: 1,
      mixup: { K_s: 10, lambda: 0.9 },
      dnMode: 'transductive',
      onLayerDone: (l) => done.push(l),
    });
    expect(res.layers).toHaveLength(3);
    const backend = await gramBackend();
    expect(res.backend).toBe(backend.name);
    expect(res.threads).toBe(backend.threads);
    expect(done.sort()).toEqual([0, 1, 2]);
    for (const [l, layer] of layers.entries()) {
      const banks = buildBanks({
        train: layer.train,
        dim,
        trainDomains: domains,
        kn: 1,
        mixup: { K_s: 10, lambda: 0.9 },
      });
      const direct = await scoreMachine({ banks, test: layer.test, dnMode: 'transductive' });
      expect(Array.from(res.layers[l]!.score)).toEqual(Array.from(direct.score));
      expect(res.layers[l]!.dnMode).toBe('transductive');
    }
  });

  it('reports errors of a layer as GenrepError', async () => {
    const layers = [{ train: gaussian(4, 2, 1), test: gaussian(2, 2, 2) }];
    await expect(scoreLayers({ layers, dim: 2, kn: 5, dnMode: 'none' })).rejects.toMatchObject({
      name: 'GenrepError',
      data: { field: 'kn' },
    });
  });
});
