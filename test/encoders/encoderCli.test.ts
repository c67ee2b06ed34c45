import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, int } from '../../worker/src/onnx/graphBuilder';
import { TensorDataType } from '../../worker/src/onnx/proto';
import type { EncoderDescriptor } from '../../worker/src/protocol/encoderDescriptor';
import { runCli, tempDir } from '../helpers/cli';
import { buildFamilyModel, writeFamilyModel } from '../helpers/familyModels';

/**
 * A shipped descriptor that does not fit its model (stand-ins from test/helpers/familyModels) is refused by
 * `genrep embed --model` at creation: one line `genrep: <descriptor file>: …` naming what does not fit, before any
 * clip is read (the clip given does not exist, so reading it would fail differently).
 */

const SHIPPED = path.resolve(__dirname, '..', '..', 'models', 'encoders');
const tmp = tempDir('genrep-encoder-cli-');
afterAll(() => tmp.cleanup());

const load = (name: string): EncoderDescriptor =>
  JSON.parse(readFileSync(path.join(SHIPPED, `${name}.encoder.json`), 'utf8')) as EncoderDescriptor;
const ast = load('ast-audioset');
const whisper = load('whisper-base');
const wav2vec2 = load('wav2vec2-base');

beforeAll(() => {
  for (const [name, descriptor] of [
    ['ast', ast],
    ['whisper', whisper],
    ['wav2vec2', wav2vec2],
  ] as const) {
    writeFamilyModel(tmp.file(name), descriptor, buildFamilyModel(descriptor.family as 'ast' | 'whisper' | 'wav2vec2'));
  }
  // wav2vec2's names and layout, but int64 samples.
  const g = new GraphBuilder('int-input');
  const x = g.input('input_values', TensorDataType.INT64, ['batch_size', 'sequence_length']);
  const f = g.op('Cast', [x], { to: int(TensorDataType.FLOAT) });
  g.op('Identity', [f], {}, { outputs: ['hidden_states.1'] });
  g.output('hidden_states.1', TensorDataType.FLOAT, ['batch_size', 'sequence_length']);
  mkdirSync(path.dirname(tmp.file(`int/${wav2vec2.model}`)), { recursive: true });
  writeFileSync(
    tmp.file(`int/${wav2vec2.model}`),
    g.encode({ opsets: [{ domain: '', version: 17 }], producerVersion: 'test' }),
  );
});

/** `genrep embed --model <folder>/<name>.encoder.json` on a clip that does not exist. */
async function embed(folder: string, name: string, descriptor: unknown) {
  const file = tmp.file(`${folder}/${name}.encoder.json`);
  writeFileSync(file, JSON.stringify(descriptor, null, 2));
  const result = await runCli([
    'embed',
    '--model',
    file,
    '--device',
    'cpu',
    '--threads',
    '1',
    '--out',
    tmp.file('out.npy'),
    tmp.file('absent.wav'),
  ]);
  return { ...result, file };
}

describe('genrep embed --model <descriptor> that does not fit its model', () => {
  it('reads the clip when the descriptor fits (so the refusals below come first)', async () => {
    const { code, stderr } = await embed('ast', 'fits', ast);
    expect(code).toBe(1);
    expect(stderr).toMatch(/absent\.wav/);
  });

  it.each([
    [
      'input rank',
      'ast',
      { ...ast, input: { name: 'input_values', layout: 'B,1,T,F' } },
      /input 'input_values' is \[batch_size, 1024, 128\] \(rank 3\); input\.layout 'B,1,T,F' has rank 4$/,
    ],
    [
      'bins (size)',
      'ast',
      {
        ...ast,
        frontEnd: {
          ...ast.frontEnd,
          options: { ...(ast.frontEnd as { options: Record<string, unknown> }).options, num_mel_bins: 64 },
        },
      },
      /input 'input_values' \[batch_size, 1024, 128\] axis 2 \('F'\) takes 128 bins; frontEnd gives 64$/,
    ],
    [
      'front-end length ≠ model input (features)',
      'ast',
      { ...ast, length: { on: 'features', frames: 512, mode: 'exact', padValue: 0 } },
      /axis 1 \('T'\) takes 1024 frames; the descriptor gives 512 per call \(length\.frames\)$/,
    ],
    [
      'front-end length ≠ model input (waveform)',
      'whisper',
      { ...whisper, length: { on: 'waveform', frames: 160000, mode: 'exact', padValue: 0 } },
      /input 'input_features' \[batch_size, 80, 3000\] axis 2 \('T'\) takes 3000 frames; the descriptor gives 1000 per call \(length\.frames\)$/,
    ],
    [
      'missing output name',
      'wav2vec2',
      { ...wav2vec2, outputs: [{ names: 'hidden_state.{n}', from: 1, count: 12, layout: 'B,T,D' }] },
      /the model has no output 'hidden_state\.1'; its outputs are hidden_states\.0, hidden_states\.1, /,
    ],
    [
      'output rank',
      'wav2vec2',
      { ...wav2vec2, outputs: [{ names: 'hidden_states.{n}', from: 1, count: 12, layout: 'B,D' }] },
      /output 'hidden_states\.1' is \[batch_size, sequence_length, 8\] \(rank 3\); outputs\[0\]\.layout 'B,D' has rank 2$/,
    ],
    [
      'input dtype',
      'int',
      { ...wav2vec2, outputs: [{ name: 'hidden_states.1', layout: 'B,T' }] },
      /input 'input_values' is int64; float32 is expected$/,
    ],
  ] as const)('%s: one line naming the file and the mismatch', async (_label, folder, descriptor, message) => {
    const { code, stdout, stderr, file } = await embed(folder, _label.replace(/\W+/g, '-'), descriptor);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(`genrep: ${file}: `)).toBe(true);
    expect(lines[0]).toMatch(message);
    expect(stderr).not.toMatch(/absent\.wav/);
  });
});
