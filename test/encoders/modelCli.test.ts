import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli';
import { buildFamilyModel } from '../helpers/familyModels';

const tmp = tempDir('genrep-model-cli-');
afterAll(() => tmp.cleanup());

describe('genrep model list / inspect', () => {
  it('lists the shipped encoder descriptors with their family, file and source', async () => {
    const { code, stdout } = await runCli(['model', 'list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^beats\s/m);
    expect(stdout).toMatch(/^whisper-base\s+whisper\s+whisper-base\/encoder_model\.onnx$/m);
    expect(stdout).toMatch(/^speech-embedding\s+speech-embedding\s+speech-embedding\/embedding_model\.onnx$/m);
    expect(stdout).toContain('from: Hugging Face MIT/ast-finetuned-audioset-10-10-0.4593');
  });

  it('inspects an ONNX file and names the descriptor it would use', async () => {
    const file = tmp.file('clap.onnx');
    writeFileSync(file, buildFamilyModel('clap').model);
    const { code, stdout } = await runCli(['model', 'inspect', file]);
    expect(code).toBe(0);
    expect(stdout).toContain('  input_features  float32  [batch_size, 1, 1001, 64]\n');
    expect(stdout).toContain('  last_hidden_state  float32  [batch_size, 8, 8, 1001]\n');
    expect(stdout).toContain('descriptor: clap-htsat-unfused (models/encoders/clap-htsat-unfused.encoder.json)\n');
  });

  it('fails with one line naming a missing path', async () => {
    const { code, stderr } = await runCli(['model', 'inspect', tmp.file('absent.onnx')]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/absent\.onnx: no such file or folder/);
  });
});
