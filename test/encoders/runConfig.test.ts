import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../worker/src/config/loadConfig';
import { toEmbedderSpec } from '../../worker/src/experiments/embedderSpec';
import { resolveModel } from '../../worker/src/models/resolve';
import type { EmbedderConfig } from '../../worker/src/protocol/runConfig';

const FILE = path.resolve('/runs/exp.genrep.json');
const config = (embedder: unknown) => JSON.stringify({ dataset: { root: 'data' }, embedder });

describe('an encoder descriptor as a run config embedder', () => {
  it('accepts { kind: encoder, descriptor } and a bare .encoder.json path, resolved against the config', () => {
    const object = parseRunConfig(config({ kind: 'encoder', descriptor: 'enc/ast.encoder.json' }), FILE).config;
    expect(object.embedder).toEqual({ kind: 'encoder', descriptor: path.resolve('/runs/enc/ast.encoder.json') });
    // A single embedder here (a run config's embedder may also be a list).
    expect(toEmbedderSpec(object.embedder as EmbedderConfig)).toEqual({
      kind: 'encoder',
      descriptor: path.resolve('/runs/enc/ast.encoder.json'),
    });
    const bare = parseRunConfig(config('ast.encoder.json'), FILE).config;
    expect(bare.embedder).toBe(path.resolve('/runs/ast.encoder.json'));
  });

  it('refuses an encoder without its descriptor', () => {
    expect(() => parseRunConfig(config({ kind: 'encoder' }), FILE)).toThrow(
      /\/embedder: must have required property 'descriptor'/,
    );
  });

  it('resolves a .encoder.json --model to the encoder kind', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'genrep-resolve-'));
    try {
      const file = path.join(dir, 'x.encoder.json');
      await fsp.writeFile(file, '{}');
      expect(resolveModel(file, undefined)).toEqual({ kind: 'encoder', descriptor: file });
      expect(() => resolveModel(path.join(dir, 'y.encoder.json'), undefined)).toThrow(/no such file/);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
