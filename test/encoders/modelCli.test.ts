import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EncoderDescriptor } from '../../worker/src/protocol/encoderDescriptor';
import { runCli, tempDir } from '../helpers/cli';
import { buildFamilyModel, writeFamilyModel, type StandInFamily } from '../helpers/familyModels';

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

  /** A shipped descriptor (edited by `change`) copied into its own folder, with `family`'s stand-in where it looks. */
  function descriptorWith(
    id: string,
    family: StandInFamily,
    change: (d: EncoderDescriptor) => EncoderDescriptor = (d) => d,
  ): string {
    const shipped = path.join(__dirname, '..', '..', 'models', 'encoders', `${id}.encoder.json`);
    const descriptor = change(JSON.parse(readFileSync(shipped, 'utf8')) as EncoderDescriptor);
    const dir = tmp.file(`${id}-${family}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    writeFamilyModel(dir, descriptor, buildFamilyModel(family));
    const file = path.join(dir, `${id}.encoder.json`);
    writeFileSync(file, JSON.stringify(descriptor, null, 2));
    return file;
  }

  it('inspects a descriptor: its model and ONNX front-end model fit, and the embedder opens them', async () => {
    const file = descriptorWith('speech-embedding', 'speech-embedding');
    const { code, stdout, stderr } = await runCli(['model', 'inspect', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`model: ${path.join(path.dirname(file), 'speech-embedding', 'embedding_model.onnx')}\n`);
    expect(stdout).toContain('  input_1  float32  [unk__0, 76, 32, 1]\n');
    expect(stdout).toContain('front-end model: ');
    expect(stdout).toContain('  output  float32  [batch_size, 1, frames, 32]\n');
    expect(stdout).toContain('fits: names, dtypes, ranks and fixed sizes agree\n');
    expect(stdout).toMatch(/^embedder: opens it on silence: 1 layers, id encoder:[0-9a-f]{32}$/m);
  });

  it("names each mismatch of a descriptor with another family's model, and fails", async () => {
    const file = descriptorWith('whisper-base', 'clap');
    const { code, stdout, stderr } = await runCli(['model', 'inspect', file]);
    expect(code).toBe(1);
    expect(stdout).toContain('does not fit:\n');
    expect(stdout).toMatch(
      /^ {2}output 'last_hidden_state' has rank 4 \[batch_size, 8, 8, 1001\], the layout B,T,D has 3$/m,
    );
    expect(stdout).toMatch(/^ {2}input 'input_features' has rank 4 .*, the layout B,F,T has 3$/m);
    expect(stdout).not.toContain('embedder:');
    expect(stderr).toMatch(/whisper-base\.encoder\.json: does not fit its model \(\d+ problems, listed above\)/);
  });

  it("checks an ONNX front-end's output against its layout and the encoder's bins", async () => {
    const rank = descriptorWith('speech-embedding', 'speech-embedding', (d) =>
      d.frontEnd.kind === 'onnx' ? { ...d, frontEnd: { ...d.frontEnd, layout: 'B,T,F' } } : d,
    );
    const ranked = await runCli(['model', 'inspect', rank]);
    expect(ranked.code).toBe(1);
    expect(ranked.stdout).toContain(
      "  front-end output 'output' has rank 4 [batch_size, 1, frames, 32], frontEnd.layout B,T,F has 3\n",
    );
    const bins = descriptorWith('speech-embedding', 'speech-embedding', (d) =>
      d.frontEnd.kind === 'onnx' ? { ...d, frontEnd: { ...d.frontEnd, layout: 'B,F,T,1' } } : d,
    );
    const binned = await runCli(['model', 'inspect', bins]);
    expect(binned.code).toBe(1);
    expect(binned.stdout).toContain("  front-end output 'output' gives 1 bins (F); encoder input 'input_1' takes 32\n");
  });

  it('refuses a descriptor whose model is not there, naming the field', async () => {
    const dir = tmp.file('no-model');
    mkdirSync(dir);
    const file = path.join(dir, 'ast.encoder.json');
    writeFileSync(
      file,
      readFileSync(path.join(__dirname, '..', '..', 'models', 'encoders', 'ast-audioset.encoder.json')),
    );
    const { code, stderr } = await runCli(['model', 'inspect', file]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `ast.encoder.json: /model: ${path.join(dir, 'ast-finetuned-audioset-10-10-0.4593', 'model.onnx')} does not exist`,
    );
  });
});
