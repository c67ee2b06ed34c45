import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAPER_DEFAULTS } from '../../worker/src/protocol/vocabulary';
import { differences, handWrittenShape, ROOT, typeShape, type Json } from '../helpers/schemaShape';

/**
 * schemas/run-config.schema.json (what ajv validates and fills in, and what the editor completes) and RunConfig
 * (worker/src/protocol/runConfig.ts: what the worker reads after that) are written by hand, side by side. This test
 * generates a schema from the type with ts-json-schema-generator and compares the two structurally: property names
 * at every level, types and enums, and which properties are present once the schema's defaults are filled in (the
 * type's non-optional ones). Constraints the type cannot say (minimum, pattern, "root or files") are not compared.
 */
function readSchema(): Json {
  return JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'run-config.schema.json'), 'utf8')) as Json;
}

describe('schemas/run-config.schema.json and RunConfig', () => {
  const type = typeShape('runConfig.ts', 'RunConfig');

  it('describe the same config: names, types, enums, and what is present after defaults', () => {
    expect(differences(handWrittenShape(readSchema()), type)).toEqual([]);
  });

  it('default to the paper settings (PAPER_DEFAULTS)', () => {
    const schema = readSchema() as {
      properties: Record<string, { default?: unknown; properties?: Record<string, { default?: unknown }> }>;
    };
    const p = schema.properties;
    expect({
      K_n: p['K_n']?.default,
      mixup: p['mixup']?.default,
      K_s: p['mixup']?.properties?.['K_s']?.default,
      lambda: p['mixup']?.properties?.['lambda']?.default,
      dn: p['dn']?.default,
      pooling: p['pooling']?.default,
    }).toEqual({
      K_n: PAPER_DEFAULTS.K_n,
      mixup: PAPER_DEFAULTS.mixup,
      K_s: PAPER_DEFAULTS.mixup.K_s,
      lambda: PAPER_DEFAULTS.mixup.lambda,
      dn: PAPER_DEFAULTS.dn,
      pooling: PAPER_DEFAULTS.pooling,
    });
  });

  it('catches drift: a renamed key, a changed enum, a lost default and a kind without its required property', () => {
    const drifted = readSchema() as {
      properties: Record<string, Json>;
      $defs: Record<string, Json>;
    };
    const props = drifted.properties;
    props['kn'] = props['K_n'] ?? {};
    delete props['K_n'];
    props['pooling'] = { enum: ['temporal', 'spectral'], default: 'temporal' };
    delete props['ablation']?.['default'];
    const embedder = drifted.$defs['embedder'] as { oneOf: Json[] };
    delete embedder.oneOf[1]?.['allOf'];
    expect(differences(handWrittenShape(drifted), type)).toEqual([
      '/K_n: in the type, not in the schema',
      '/ablation: required by the type, but the schema neither requires it nor gives it a default',
      // Once as the single embedder, once as a list's items (the list form shares the one definition).
      '/embedder/items: the schema has one object for every kind, the type one per kind',
      '/embedder: the schema has one object for every kind, the type one per kind',
      '/kn: in the schema, not in the type',
      '/pooling: "spatial" only in the type\'s enum',
    ]);
  });
});
