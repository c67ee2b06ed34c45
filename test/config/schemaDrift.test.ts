import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';
import { describe, expect, it } from 'vitest';
import { PAPER_DEFAULTS } from '../../worker/src/protocol/vocabulary';

/**
 * schemas/run-config.schema.json (what ajv validates and fills in, and what the editor completes) and RunConfig
 * (worker/src/protocol/runConfig.ts: what the worker reads after that) are written by hand, side by side. This test
 * generates a schema from the type with ts-json-schema-generator and compares the two structurally: property names
 * at every level, types and enums, and which properties are present once the schema's defaults are filled in (the
 * type's non-optional ones). Constraints the type cannot say (minimum, pattern, "root or files") are not compared.
 */
const ROOT = path.resolve(__dirname, '..', '..');
type Json = Record<string, unknown>;

/** A schema reduced to what both sides can say. Enum values are JSON texts, sorted. */
type Shape =
  | { t: 'string' | 'number' | 'boolean' | 'null' | 'any' }
  | { t: 'enum'; values: string[] }
  | { t: 'array'; items: Shape }
  | { t: 'object'; props: Map<string, Shape>; required: Set<string> }
  | { t: 'union'; members: Shape[] };

const isJson = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const jsonArray = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
const strings = (value: unknown): string[] => jsonArray(value).filter((v): v is string => typeof v === 'string');

/** Resolves `#/$defs/x` (the hand-written schema) and `#/definitions/x` (the generated one) in `root`. */
function resolver(root: Json): (ref: string) => Json {
  return (ref) => {
    let node: unknown = root;
    for (const part of ref.replace(/^#\//, '').split('/')) node = isJson(node) ? node[part] : undefined;
    if (!isJson(node)) throw new Error(`unresolvable $ref ${ref}`);
    return node;
  };
}

function shapeOf(node: Json, resolve: (ref: string) => Json): Shape {
  if (typeof node['$ref'] === 'string') return shapeOf(resolve(node['$ref']), resolve);
  if ('const' in node) return { t: 'enum', values: [JSON.stringify(node['const'])] };
  if (Array.isArray(node['enum'])) return { t: 'enum', values: jsonArray(node['enum']).map((v) => JSON.stringify(v)) };
  const type = node['type'];
  if (type === 'object' || isJson(node['properties'])) return objectShape(node, resolve);
  // oneOf/anyOf of whole schemas is a union; of `required` lists only (on objects, above) it is a constraint.
  const alternatives = jsonArray(node['oneOf'] ?? node['anyOf']).filter(isJson);
  if (alternatives.length > 0) return union(alternatives.map((a) => shapeOf(a, resolve)));
  if (Array.isArray(type)) return union(strings(type).map((t) => shapeOf({ type: t }, resolve)));
  if (type === 'array')
    return { t: 'array', items: isJson(node['items']) ? shapeOf(node['items'], resolve) : { t: 'any' } };
  if (type === 'integer' || type === 'number') return { t: 'number' };
  if (type === 'string' || type === 'boolean' || type === 'null') return { t: type };
  return { t: 'any' };
}

/**
 * Required after defaults: listed in `required`, or given a `default` that ajv fills in. An `allOf` of
 * `if {kind: const} then {required}` (how the schema gives each kind of embedder its own required properties) splits
 * the object into one variant per value, as the type's discriminated union has them.
 */
function objectShape(node: Json, resolve: (ref: string) => Json): Shape {
  const properties = isJson(node['properties']) ? node['properties'] : {};
  const props = new Map<string, Shape>();
  const required = new Set(strings(node['required']));
  for (const [name, property] of Object.entries(properties)) {
    if (!isJson(property)) continue;
    props.set(name, shapeOf(property, resolve));
    if ('default' in property) required.add(name);
  }
  const conditions = jsonArray(node['allOf'])
    .filter(isJson)
    .map((c) => ({ when: c['if'], then: c['then'] }))
    .filter((c): c is { when: Json; then: Json } => isJson(c.when) && isJson(c.then));
  if (conditions.length === 0) return { t: 'object', props, required };
  const [discriminator] = conditions.flatMap((c) =>
    Object.keys(isJson(c.when['properties']) ? c.when['properties'] : {}),
  );
  const values = discriminator !== undefined ? props.get(discriminator) : undefined;
  if (discriminator === undefined || values?.t !== 'enum') throw new Error('allOf/if/then without an enum to split on');
  return union(
    values.values.map((value) => {
      const extra = conditions
        .filter((c) => {
          const test = isJson(c.when['properties']) ? c.when['properties'][discriminator] : undefined;
          return isJson(test) && JSON.stringify(test['const']) === value;
        })
        .flatMap((c) => strings(c.then['required']));
      const variant = new Map(props);
      variant.set(discriminator, { t: 'enum', values: [value] });
      return { t: 'object', props: variant, required: new Set([...required, ...extra]) };
    }),
  );
}

/** Flattened, enums merged into one, a lone member unwrapped. */
function union(members: Shape[]): Shape {
  const flat = members.flatMap((m) => (m.t === 'union' ? m.members : [m]));
  const enums = flat.filter((m): m is Extract<Shape, { t: 'enum' }> => m.t === 'enum');
  const rest = flat.filter((m) => m.t !== 'enum');
  const merged: Shape[] = enums.length > 0 ? [{ t: 'enum', values: [...new Set(enums.flatMap((e) => e.values))] }] : [];
  const all = [...merged, ...rest];
  const [only] = all;
  return all.length === 1 && only ? only : { t: 'union', members: all };
}

function describeShape(s: Shape): string {
  switch (s.t) {
    case 'enum':
      return `one of ${[...s.values].sort().join(', ')}`;
    case 'array':
      return `an array of ${describeShape(s.items)}`;
    case 'object':
      return `an object with ${[...s.props.keys()].sort().join(', ') || 'no properties'}`;
    case 'union':
      return s.members.map(describeShape).join(' | ');
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
    case 'any':
      return s.t;
  }
}

/** The property whose single-value enum tells a union's objects apart ("kind"), if they have one. */
function discriminatorOf(objects: Extract<Shape, { t: 'object' }>[]): string | undefined {
  const [first] = objects;
  if (!first) return undefined;
  return [...first.props.keys()].find((name) =>
    objects.every((o) => {
      const p = o.props.get(name);
      return p?.t === 'enum' && p.values.length === 1;
    }),
  );
}

/** Differences between the hand-written schema's shape and the type's, one line each, named by JSON pointer. */
function differences(schema: Shape, type: Shape, at = ''): string[] {
  const where = at || '/';
  if (schema.t === 'any' || type.t === 'any') return [];
  if (schema.t === 'union' || type.t === 'union') return unionDifferences(schema, type, at);
  if (schema.t !== type.t)
    return [`${where}: the schema says ${describeShape(schema)}, the type ${describeShape(type)}`];
  if (schema.t === 'enum' && type.t === 'enum') {
    const onlySchema = schema.values.filter((v) => !type.values.includes(v));
    const onlyType = type.values.filter((v) => !schema.values.includes(v));
    return [
      ...(onlySchema.length > 0 ? [`${where}: ${onlySchema.join(', ')} only in the schema's enum`] : []),
      ...(onlyType.length > 0 ? [`${where}: ${onlyType.join(', ')} only in the type's enum`] : []),
    ];
  }
  if (schema.t === 'array' && type.t === 'array') return differences(schema.items, type.items, `${at}/items`);
  if (schema.t === 'object' && type.t === 'object') return objectDifferences(schema, type, at);
  return [];
}

function objectDifferences(
  schema: Extract<Shape, { t: 'object' }>,
  type: Extract<Shape, { t: 'object' }>,
  at: string,
  allowedExtra: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  for (const name of [...new Set([...schema.props.keys(), ...type.props.keys()])].sort()) {
    const s = schema.props.get(name);
    const t = type.props.get(name);
    if (!t) {
      if (!allowedExtra.has(name)) out.push(`${at}/${name}: in the schema, not in the type`);
      continue;
    }
    if (!s) {
      out.push(`${at}/${name}: in the type, not in the schema`);
      continue;
    }
    out.push(...differences(s, t, `${at}/${name}`));
    const inSchema = schema.required.has(name);
    if (inSchema !== type.required.has(name)) {
      out.push(
        inSchema
          ? `${at}/${name}: always present once the schema's defaults are filled in, but optional in the type`
          : `${at}/${name}: required by the type, but the schema neither requires it nor gives it a default`,
      );
    }
  }
  return out;
}

function unionDifferences(schema: Shape, type: Shape, at: string): string[] {
  const where = at || '/';
  const membersOf = (s: Shape): Shape[] => (s.t === 'union' ? s.members : [s]);
  const schemaMembers = membersOf(schema);
  const typeMembers = membersOf(type);
  const out: string[] = [];
  const objects = (ms: Shape[]): Extract<Shape, { t: 'object' }>[] =>
    ms.filter((m): m is Extract<Shape, { t: 'object' }> => m.t === 'object');
  for (const kind of ['string', 'number', 'boolean', 'null', 'enum', 'array'] as const) {
    const s = schemaMembers.find((m) => m.t === kind);
    const t = typeMembers.find((m) => m.t === kind);
    if (s && t) out.push(...differences(s, t, at));
    else if (s) out.push(`${where}: the schema allows ${describeShape(s)}, the type does not`);
    else if (t) out.push(`${where}: the type allows ${describeShape(t)}, the schema does not`);
  }
  const schemaObjects = objects(schemaMembers);
  const typeObjects = objects(typeMembers);
  if (schemaObjects.length === 1 && typeObjects.length === 1) {
    const [s] = schemaObjects;
    const [t] = typeObjects;
    if (s && t) out.push(...objectDifferences(s, t, at));
  } else if (schemaObjects.length > 0 || typeObjects.length > 0) {
    // Discriminated objects ({ kind: 'beats', … } | { kind: 'onnx', … }): each kind compared with its counterpart;
    // a property the schema allows for every kind is fine on a kind whose type lacks it if another kind has it.
    const split = typeObjects.length > 1 ? typeObjects : schemaObjects;
    const key = discriminatorOf(split);
    if (key === undefined) return [...out, `${where}: objects in a union without a common "kind" to match them by`];
    if (discriminatorOf([...schemaObjects, ...typeObjects]) !== key) {
      const [whole, parts] = split === typeObjects ? ['schema', 'type'] : ['type', 'schema'];
      return [...out, `${where}: the ${whole} has one object for every ${key}, the ${parts} one per ${key}`];
    }
    const valueOf = (o: Extract<Shape, { t: 'object' }>): string => {
      const p = o.props.get(key);
      return p?.t === 'enum' ? (p.values[0] ?? '') : '';
    };
    const typeNames = new Set(typeObjects.flatMap((o) => [...o.props.keys()]));
    for (const value of [...new Set([...schemaObjects, ...typeObjects].map(valueOf))].sort()) {
      const s = schemaObjects.find((o) => valueOf(o) === value);
      const t = typeObjects.find((o) => valueOf(o) === value);
      if (s && t) out.push(...objectDifferences(s, t, `${at}(${key}=${value})`, typeNames));
      else out.push(`${where}: ${key} ${value} only in the ${s ? 'schema' : 'type'}`);
    }
  }
  return out;
}

function handWrittenShape(schema: Json): Shape {
  return shapeOf(schema, resolver(schema));
}

function typeShape(): Shape {
  const generated = createGenerator({
    path: path.join(ROOT, 'worker', 'src', 'protocol', 'runConfig.ts'),
    tsconfig: path.join(ROOT, 'worker', 'tsconfig.json'),
    type: 'RunConfig',
    expose: 'export',
    topRef: true,
    jsDoc: 'none',
    skipTypeCheck: true,
    additionalProperties: false,
  }).createSchema('RunConfig') as Json;
  return shapeOf(generated, resolver(generated));
}

function readSchema(): Json {
  return JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'run-config.schema.json'), 'utf8')) as Json;
}

describe('schemas/run-config.schema.json and RunConfig', () => {
  const type = typeShape();

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
