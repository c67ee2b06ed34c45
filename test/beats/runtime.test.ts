import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import { cudaProviderInstalled, openSession } from '../../worker/src/onnx/runtime';

function identity(): Uint8Array {
  const g = new GraphBuilder('id');
  g.op('Identity', [g.input('x', TensorDataType.FLOAT, [2])], {}, { outputs: ['y'] });
  g.output('y', TensorDataType.FLOAT, [2]);
  return g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 't' });
}

describe('ONNX Runtime sessions', () => {
  it("uses CUDA only where the install has its provider library, and falls back to the CPU on 'auto'", async () => {
    const { session, provider } = await openSession(identity(), { threads: 1 });
    expect(provider).toBe(cudaProviderInstalled() ? 'cuda' : 'cpu');
    await session.release();
  });

  it("says so when 'cuda' is demanded and unavailable", async () => {
    if (cudaProviderInstalled()) {
      const { provider, session } = await openSession(identity(), { device: 'cuda' });
      expect(provider).toBe('cuda');
      await session.release();
    } else {
      await expect(openSession(identity(), { device: 'cuda' })).rejects.toThrow(/CUDA execution provider unavailable/);
    }
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(openSession(identity(), { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(openSession(identity(), { threads: 1.5 })).rejects.toThrow(/threads must be a positive integer/);
  });
});
