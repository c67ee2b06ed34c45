import { afterAll, describe, expect, it, vi } from 'vitest';
import { gramBackend, scoreMachine, setGramBackend } from '../../worker/src/scoring';
import { goldenCaseBanks, loadGoldenScoring, maxRelativeError } from './goldenHelpers';

// onnxruntime-node failing to load (no native binary for the platform, a broken install) must not break scoring:
// `auto` falls back to the JavaScript kernel, says why, and the results still meet the reference.
vi.mock('onnxruntime-node', () => {
  throw new Error('simulated: onnxruntime_binding.node not found');
});
afterAll(() => setGramBackend('auto'));

describe('Gram backend fallback when onnxruntime-node cannot load', () => {
  it('auto falls back to the JavaScript kernel and names the load error', async () => {
    setGramBackend('auto');
    const backend = await gramBackend();
    expect(backend.name).toBe('js');
    expect(backend.description).toMatch(
      /JavaScript kernel: onnxruntime-node did not load \(.*simulated: onnxruntime_binding\.node not found/,
    );
  });

  it('scores the golden case on the fallback within the reference tolerance', async () => {
    setGramBackend('auto');
    const golden = loadGoldenScoring();
    const c = golden.cases.find((x) => x.name === 'Ks100_Kn3')!;
    const banks = goldenCaseBanks(golden, c);
    const r = await scoreMachine({ banks, test: golden.test, dnMode: 'transductive' });
    expect(maxRelativeError(r.d_target!, golden.set.f32(`${c.name}/d_target`).data)).toBeLessThan(1e-5);
    expect(maxRelativeError(r.score, golden.set.f32(`${c.name}/score_dn`).data)).toBeLessThan(1e-5);
  });

  it("asking for 'onnxruntime' explicitly is an error rather than a silent fallback", async () => {
    setGramBackend('onnxruntime');
    await expect(gramBackend()).rejects.toMatchObject({
      name: 'GenrepError',
      code: 'UNSUPPORTED',
      message: /onnxruntime-node is unavailable/,
    });
  });
});
