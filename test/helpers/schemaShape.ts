import * as path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';

/**
 * Structural comparison of a hand-written JSON schema with one generated from a TypeScript type (names at every
 * level, types and enums, what is present once defaults are filled in), for the drift tests of
 * schemas/run-config.schema.json (test/config/schemaDrift.test.ts) and schemas/encoder.schema.json
 * (test/encoders/schemaDrift.test.ts).
 */
export const ROOT = path.resolve(__dirname, '..', '..');
export type Json = Record<string, unknown>;

/** A schema reduced to what both sides can say. Enum values are JSON texts, sorted. */
type Shape =
  | { t: 'string' | 'number' | 'boolean' | 'null' | 'any' }
  | { t: 'enum'; values: string[] }
  | { t: 'array'; items: Shape }
  | { t: 'object'; props: Map<string, Shape>; required: Set<string> }
  | { t: 'union'; members: Shape[] };

export const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
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
      // A kind's own properties (schemas/encoder.schema.json's front-ends) join the ones every kind has.
      for (const c of conditions) {
        const test = isJson(c.when['properties']) ? c.when['properties'][discriminator] : undefined;
        if (!isJson(test) || JSON.stringify(test['const']) !== value || !isJson(c.then['properties'])) continue;
        for (const [name, property] of Object.entries(c.then['properties'])) {
          if (isJson(property) && name !== discriminator) variant.set(name, shapeOf(property, resolve));
        }
      }
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
export function differences(schema: Shape, type: Shape, at = ''): string[] {
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
    if (key === undefined) return [...out, ...undiscriminated(schemaObjects, typeObjects, at)];
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

/** Objects of a union without a "kind" (the descriptor's two output forms): matched by their property names. */
function undiscriminated(
  schemaObjects: Extract<Shape, { t: 'object' }>[],
  typeObjects: Extract<Shape, { t: 'object' }>[],
  at: string,
): string[] {
  const names = (o: Extract<Shape, { t: 'object' }>): string => [...o.props.keys()].sort().join(', ');
  const out: string[] = [];
  for (const s of schemaObjects) {
    const t = typeObjects.find((o) => names(o) === names(s));
    if (t) out.push(...objectDifferences(s, t, `${at}(${names(s)})`));
    else out.push(`${at || '/'}: an object with ${names(s)} only in the schema`);
  }
  for (const t of typeObjects) {
    if (!schemaObjects.some((o) => names(o) === names(t)))
      out.push(`${at || '/'}: an object with ${names(t)} only in the type`);
  }
  return out;
}

export function handWrittenShape(schema: Json): Shape {
  return shapeOf(schema, resolver(schema));
}

/** The shape of an exported type of a protocol file (e.g. 'runConfig.ts', 'RunConfig'). */
export function typeShape(protocolFile: string, typeName: string): Shape {
  const generated = createGenerator({
    path: path.join(ROOT, 'worker', 'src', 'protocol', protocolFile),
    tsconfig: path.join(ROOT, 'worker', 'tsconfig.json'),
    type: typeName,
    expose: 'export',
    topRef: true,
    jsDoc: 'none',
    skipTypeCheck: true,
    additionalProperties: false,
  }).createSchema(typeName) as Json;
  return shapeOf(generated, resolver(generated));
}
