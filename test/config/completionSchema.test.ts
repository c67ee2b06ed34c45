import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { EDITOR_SCHEMA_KEYWORDS } from '../../worker/src/config/loadConfig';
import { BUILT_IN_ENCODERS } from '../../worker/src/config/validateAgainstDataset';
import { shippedDescriptors } from '../../worker/src/encoders/shippedDescriptors';
import { knownModels } from '../../worker/src/models/manifest';

/**
 * VS Code's JSON service reads the schema that package.json's `jsonValidation` names for two things: completion and
 * hover (wanted) and its own validation (not wanted: the worker's genrep/validateConfig is the one source of a run
 * config's diagnostics, in the run's words, and a second set of yellow warnings says the same mistakes again). The
 * service has no switch for validation by file, so it gets schemas/run-config.completion.schema.json: the run-config
 * schema with every validation keyword taken out — type, enum and const become examples and snippets, required,
 * additionalProperties, bounds and patterns go, oneOf becomes anyOf (whose branches, now all matching, would
 * otherwise be "matches multiple schemas") — and comments and trailing commas allowed, as the loader allows them.
 * This file generates it; a stale copy fails here (`UPDATE_COMPLETION_SCHEMA=1 npx vitest run <this file>`).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const SOURCE = path.join(ROOT, 'schemas', 'run-config.schema.json');
const TARGET = path.join(ROOT, 'schemas', 'run-config.completion.schema.json');
type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the completion schema keeps: words and values for people, and the structure that leads to them. */
const KEPT = new Set([
  '$schema',
  '$id',
  '$ref',
  '$defs',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'properties',
  'items',
  'anyOf',
  'allOf',
  ...EDITOR_SCHEMA_KEYWORDS,
]);
/** What it drops: everything VS Code would validate with. */
const DROPPED = new Set([
  'type',
  'required',
  'additionalProperties',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'if',
  'then',
  'else',
  'not',
  'format',
  'multipleOf',
]);

/**
 * What a property's key completion inserts without `type` (VS Code falls back to the bare key otherwise), cursor
 * inside. Not for the branches of an anyOf, whose property already offers its values.
 */
const TYPE_SNIPPETS: Record<string, Json> = {
  // A string body is inserted as JSON ("$1": a tab stop inside the quotes); a leading ^ inserts the rest as it is.
  object: { defaultSnippets: [{ label: '{}', body: '^{$1}' }] },
  array: { defaultSnippets: [{ label: '[]', body: '^[$1]' }] },
  string: { defaultSnippets: [{ label: '""', body: '$1' }] },
  boolean: { examples: [true, false] },
};

function completionNode(node: unknown, inBranch = false): unknown {
  if (Array.isArray(node)) return node.map((n) => completionNode(n, inBranch));
  if (!isJson(node)) return node;
  const out: Json = {};
  const examples: unknown[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'enum') examples.push(...(value as unknown[]));
    else if (key === 'const') examples.push(value);
    else if (key === 'oneOf' || key === 'anyOf' || key === 'allOf')
      out[key === 'oneOf' ? 'anyOf' : key] = completionNode(value, true);
    else if (key === 'properties' || key === '$defs')
      out[key] = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, completionNode(v)]));
    else if (key === 'default' || key === 'defaultSnippets' || key === 'examples') out[key] = value;
    else if (KEPT.has(key)) out[key] = completionNode(value);
    else if (!DROPPED.has(key)) throw new Error(`schema keyword '${key}': teach completionSchema.test.ts about it`);
  }
  if (examples.length > 0) out['examples'] = [...new Set([...((out['examples'] as unknown[]) ?? []), ...examples])];
  const type = node['type'];
  const hasValue = ['default', 'defaultSnippets', 'examples'].some((k) => k in out);
  if (!hasValue && !inBranch && typeof type === 'string' && TYPE_SNIPPETS[type])
    Object.assign(out, TYPE_SNIPPETS[type]);
  return out;
}

export function completionSchema(schema: Json): Json {
  const body = completionNode(schema) as Json;
  return {
    $schema: body['$schema'],
    $id: 'https://genrep.invalid/schemas/run-config.completion.schema.json',
    $comment:
      'Generated from run-config.schema.json by test/config/completionSchema.test.ts: completion and hover for editors only. Validation is the GenRep worker’s (genrep/validateConfig, the same checks as genrep run).',
    allowComments: true,
    allowTrailingCommas: true,
    ...Object.fromEntries(Object.entries(body).filter(([k]) => k !== '$schema' && k !== '$id')),
  };
}

const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

/** Every node of a schema with its JSON pointer. */
function* nodes(node: unknown, at = ''): Generator<[string, Json]> {
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) yield* nodes(child, `${at}/${i}`);
    return;
  }
  if (!isJson(node)) return;
  yield [at, node];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'default' || key === 'defaultSnippets' || key === 'examples' || key === 'enum' || key === 'const')
      continue;
    yield* nodes(value, `${at}/${key}`);
  }
}

describe('schemas/run-config.completion.schema.json (what VS Code completes with)', () => {
  const source = readJson(SOURCE);
  const generated = `${JSON.stringify(completionSchema(source), null, 2)}\n`;

  it('is generated from run-config.schema.json', () => {
    if (process.env['UPDATE_COMPLETION_SCHEMA'] === '1') writeFileSync(TARGET, generated);
    expect(
      readFileSync(TARGET, 'utf8'),
      'stale: UPDATE_COMPLETION_SCHEMA=1 npx vitest run test/config/completionSchema.test.ts',
    ).toBe(generated);
  });

  it('holds no keyword VS Code validates with, so the worker is the only source of diagnostics', () => {
    const found = [...nodes(readJson(TARGET))].flatMap(([at, node]) =>
      Object.keys(node)
        .filter((k) => DROPPED.has(k) || k === 'enum' || k === 'const' || k === 'oneOf')
        .map((k) => `${at}/${k}`),
    );
    expect(found).toEqual([]);
    expect(readJson(TARGET)).toMatchObject({ allowComments: true, allowTrailingCommas: true });
  });

  it('keeps completion: the properties, descriptions and the values each place offers', () => {
    const target = readJson(TARGET) as { properties: Record<string, Json>; $defs: Record<string, Json> };
    expect(Object.keys(target.properties)).toEqual(Object.keys(source['properties'] as Json));
    expect(target.properties['pooling']).toMatchObject({ examples: ['temporal', 'spectral', 'spatial'] });
    expect(target.$defs['dataset']).toMatchObject({ defaultSnippets: [{ label: '{}', body: '^{$1}' }] });
    expect(target.properties['threads']?.['defaultSnippets']).toEqual([expect.objectContaining({ body: 4 })]);
  });
});

describe('schemas/run-config.schema.json: what completion inserts is valid', () => {
  const schema = readJson(SOURCE);
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema(schema);
  const id = schema['$id'] as string;

  it('every default, snippet body and example passes the schema at its own place', () => {
    const invalid: string[] = [];
    for (const [at, node] of nodes(schema)) {
      const values = [
        ...('default' in node ? [node['default']] : []),
        ...((node['defaultSnippets'] as { body?: unknown }[] | undefined) ?? []).map((s) => s.body),
        ...((node['examples'] as unknown[] | undefined) ?? []),
      ];
      const validate = ajv.compile({ $ref: `${id}#${at}` });
      for (const value of values) if (!validate(value)) invalid.push(`${at}: ${JSON.stringify(value)}`);
    }
    expect(invalid).toEqual([]);
  });

  it('every number a user may add has a default or a snippet (VS Code would insert 0, which may be out of range)', () => {
    const bare = [...nodes(schema)]
      .filter(
        ([at, node]) => /\/properties\/[^/]+$/.test(at) && (node['type'] === 'integer' || node['type'] === 'number'),
      )
      .filter(([, node]) => !('default' in node) && !Array.isArray(node['defaultSnippets']))
      .map(([at]) => at);
    expect(bare).toEqual([]);
  });

  it('offers every built-in encoder, every checkpoint of models/manifest.json and the encoder form as an embedder', () => {
    const embedder = (schema['$defs'] as Record<string, Json>)['embedder'];
    const bodies = ((embedder?.['defaultSnippets'] as { body: unknown }[] | undefined) ?? []).map((s) => s.body);
    expect(bodies).toEqual([
      ...BUILT_IN_ENCODERS,
      ...knownModels().keys(),
      { kind: 'encoder', descriptor: 'models/encoders/ast-audioset.encoder.json' },
    ]);
  });

  it('offers every shipped encoder descriptor (models/encoders/) as an embedder path and as a descriptor', () => {
    const shipped = shippedDescriptors().map((d) => `models/encoders/${path.basename(d.file)}`);
    expect(shipped.length).toBeGreaterThan(0);
    const embedder = (schema['$defs'] as Record<string, Json>)['embedder'] as Json;
    expect(embedder['examples']).toEqual(shipped);
    const object = (embedder['oneOf'] as Json[])[1] as { properties: Record<string, Json> };
    expect(object.properties['descriptor']?.['examples']).toEqual(shipped);
  });
});
