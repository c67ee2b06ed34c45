import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { parseDescriptor } from '../../worker/src/encoders/descriptorFile';

const FILE = '/models/my.encoder.json';

const valid = `{
  // comments are fine
  "name": "wave",
  "model": "onnx/model.onnx",
  "frontEnd": { "kind": "waveform", "sampleRate": 16000, "normalize": true },
  "input": { "layout": "B,S" },
  "outputs": [
    { "name": "last_hidden_state", "layout": "B,T,D" },
    { "names": "hidden_states.{n}", "from": 1, "count": 12, "layout": "B,T,D" },
  ],
}`;

describe('encoder descriptor file', () => {
  it('reads JSON with comments and resolves the model against its folder', () => {
    const { descriptor, baseDir } = parseDescriptor(valid, FILE);
    expect(descriptor.name).toBe('wave');
    expect(baseDir).toBe(path.resolve('/models'));
    expect(path.resolve(baseDir, descriptor.model)).toBe(path.resolve('/models/onnx/model.onnx'));
  });

  it('names the JSON pointer and line:column of what the schema refuses', () => {
    const badLayout = valid.replace('"layout": "B,S"', '"layout": "B,X"');
    expect(() => parseDescriptor(badLayout, FILE)).toThrow(
      /^\/models\/my.encoder.json:6:24: \/input\/layout: must match pattern/,
    );
    const unknownKey = valid.replace('"normalize": true', '"normalise": true');
    expect(() => parseDescriptor(unknownKey, FILE)).toThrow(
      /my.encoder.json:5:58: \/frontEnd\/normalise: unknown key 'normalise'/,
    );
    const badKind = valid.replace('"kind": "waveform"', '"kind": "wave"');
    expect(() => parseDescriptor(badKind, FILE)).toThrow(
      /my.encoder.json:5:25: \/frontEnd\/kind: must be one of "waveform", "kaldi-fbank", "log-mel", "onnx"/,
    );
    const noOutputs = valid.replace(/"outputs": \[[^\]]*\],/s, '');
    expect(() => parseDescriptor(noOutputs, FILE)).toThrow(
      /my.encoder.json:1:1: \/: must have required property 'outputs'/,
    );
    const missingSampleRate = valid.replace('"sampleRate": 16000, ', '');
    expect(() => parseDescriptor(missingSampleRate, FILE)).toThrow(
      /\/frontEnd: must have required property 'sampleRate'/,
    );
  });

  it('refuses invalid JSON at its line:column', () => {
    expect(() => parseDescriptor('{\n  "name": "x",\n  "model" "m.onnx"\n}', FILE)).toThrow(
      /my.encoder.json:3:11: invalid JSON \(ColonExpected\)/,
    );
  });

  it('refuses model paths no one means: URLs, ~, backslashes, not .onnx', () => {
    const withModel = (model: string) => valid.replace('"onnx/model.onnx"', JSON.stringify(model));
    expect(() => parseDescriptor(withModel('https://x.org/m.onnx'), FILE)).toThrow(
      /my.encoder.json:4:12: \/model: .* is a URL/,
    );
    expect(() => parseDescriptor(withModel('~/m.onnx'), FILE)).toThrow(/starts with '~'/);
    expect(() => parseDescriptor(withModel('model.pt'), FILE)).toThrow(/is not an .onnx file/);
    if (path.sep === '/')
      expect(() => parseDescriptor(withModel('a\\m.onnx'), FILE)).toThrow(/use '\/' between folders/);
  });
});
