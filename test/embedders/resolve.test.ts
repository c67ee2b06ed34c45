import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel } from '../../worker/src/models/resolve';

let modelDir: string;
beforeAll(async () => {
  modelDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-models-'));
  await fsp.writeFile(path.join(modelDir, 'BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt1.pt'), 'x');
  await fsp.writeFile(path.join(modelDir, 'encoder.onnx'), 'x');
});
afterAll(async () => {
  await fsp.rm(modelDir, { recursive: true, force: true });
});

describe('resolveModel', () => {
  it('knows the weight-free default', () => {
    expect(resolveModel('fbank-stats', modelDir)).toEqual({ kind: 'fbank-stats' });
  });

  it('finds a named checkpoint in the model directory through models/manifest.json', () => {
    expect(resolveModel('beats_ft1', modelDir)).toEqual({
      kind: 'beats',
      checkpoint: path.join(modelDir, 'BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt1.pt'),
    });
  });

  it('says how to get a named checkpoint that is not downloaded', () => {
    expect(() => resolveModel('beats_iter3', modelDir)).toThrow(
      /model 'beats_iter3' is not downloaded; run 'genrep model download beats_iter3'/,
    );
  });

  it('lists the known names for an unknown one', () => {
    expect(() => resolveModel('beats_ft9', modelDir)).toThrow(
      /unknown model 'beats_ft9'; use fbank-stats, one of beats, beats_ft1, beats_ft2, beats_iter3/,
    );
  });

  it('takes paths: .pt as a checkpoint, .onnx as a converted graph', () => {
    expect(resolveModel(path.join(modelDir, 'encoder.onnx'), modelDir)).toEqual({
      kind: 'beats-onnx',
      path: path.join(modelDir, 'encoder.onnx'),
    });
    expect(() => resolveModel(path.join(modelDir, 'missing.pt'), modelDir)).toThrow(/missing\.pt: no such file/);
    expect(() => resolveModel(modelDir + path.sep, modelDir)).toThrow(/is a directory/);
  });
});
