import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import {
  findNodeAtLocation,
  getNodeValue,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError,
} from 'jsonc-parser';
import { GenrepError } from '../errors';
import { errnoCode, fsError } from '../io/fsErrors';
import type { EmbedderConfig, RunConfig } from '../protocol/runConfig';
import { projectFile } from '../paths';
import { pointerSegments } from '../util/jsonPointer';
import { MAX_JSON_DEPTH, nestingTooDeep } from '../util/jsonScanner';

/** Schema keywords for editors (VS Code's JSON service), not for validation. */
export const EDITOR_SCHEMA_KEYWORDS = [
  'defaultSnippets',
  'markdownDescription',
  'allowComments',
  'allowTrailingCommas',
] as const;

/**
 * Reads a run config (JSON with comments allowed, as the editor's template has them), validates it against
 * schemas/run-config.schema.json with ajv, fills in the schema's defaults and resolves relative paths against the
 * config's folder. Every error names the file, the line:column, the JSON pointer and the problem.
 */
export interface LoadedConfig {
  file: string;
  config: RunConfig;
  /** Maps a JSON pointer in the file to 'file:line:col', for errors found later (K_s too large, layer out of range). */
  locate: (pointer: string, atKey?: boolean) => string;
  /** Whether the file itself sets the value at a JSON pointer (rather than the schema's default). */
  written: (pointer: string) => boolean;
}

export function schemaPath(): string {
  return projectFile('schemas', 'run-config.schema.json');
}

let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true });
    // Keywords only editors read (completion snippets); ajv's strict mode refuses keywords it does not know.
    ajv.addVocabulary([...EDITOR_SCHEMA_KEYWORDS]);
    validator = ajv.compile(JSON.parse(readFileSync(schemaPath(), 'utf8')));
  }
  return validator;
}

export async function loadRunConfig(file: string): Promise<LoadedConfig> {
  const bytes = await readConfigFile(file);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new GenrepError(`${file}: is UTF-16 text; save the run config as UTF-8`, 'BAD_INPUT', {
      file,
      expected: 'UTF-8 JSON',
    });
  }
  return parseRunConfig(bytes.toString('utf8'), file);
}

/**
 * A run config's bytes, for `genrep run` and the editor's `genrep/run` / `genrep/validateConfig` alike. A missing
 * file is said in the config's own words ("no such config file"); every other failure as fsError says it.
 */
export async function readConfigFile(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new GenrepError(`${file}: no such config file`, 'NOT_FOUND', { file });
    throw fsError(err, file, { action: 'read', expected: 'a run config (.json)' });
  }
}

/** Deeper than any run config needs; checked before parsing, whose recursion a 100k-deep file would overflow. */
export const MAX_CONFIG_DEPTH = MAX_JSON_DEPTH;

export function parseRunConfig(text: string, file: string): LoadedConfig {
  // A byte-order mark (Windows editors add one) is not JSON; columns are counted after it, as editors show them.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    const expected = 'a run config (a JSON object with at least "dataset")';
    throw new GenrepError(`${file}: is empty; expected ${expected}`, 'BAD_INPUT', { file, expected });
  }
  const lineCol = lineColumnOf(text);
  // jsonc-parser recurses once per level and overflows the stack a few thousand levels down.
  const tooDeep = nestingTooDeep(text, MAX_CONFIG_DEPTH, { comments: true });
  if (tooDeep !== undefined) {
    const problem = `nested more than ${MAX_CONFIG_DEPTH} levels deep; a run config needs only a few`;
    throw new GenrepError(`${file}:${lineCol(tooDeep)}: ${problem}`, 'BAD_INPUT', {
      file,
      expected: `at most ${MAX_CONFIG_DEPTH} levels of nesting`,
    });
  }
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !tree) {
    const first = errors[0];
    const where = first ? lineCol(first.offset) : '1:1';
    throw new GenrepError(
      `${file}:${where}: invalid JSON (${first ? printParseErrorCode(first.error) : 'empty file'})`,
      'BAD_INPUT',
      { file },
    );
  }
  refuseDuplicateKeys(tree, '', file, lineCol);
  const locate = (pointer: string, atKey = false): string => `${file}:${lineCol(nodeFor(tree, pointer, atKey).offset)}`;
  const written = (pointer: string): boolean => findNodeAtLocation(tree, pointerSegments(pointer)) !== undefined;
  const value = getNodeValue(tree) as unknown;
  const validate = getValidator();
  if (!validate(value)) refuseSchemaErrors(file, validate.errors, locate);
  const config = value as RunConfig;
  resolvePaths(config, path.dirname(path.resolve(file)));
  return { file, config, locate, written };
}

/** Offset of the first bracket opening a level deeper than `max`, found with the (iterative) scanner. */
/**
 * JSON lets a key repeat and parsers keep the last, so a config edited in two places silently loses one edit;
 * refused at the second occurrence.
 */
function refuseDuplicateKeys(node: Node, pointer: string, file: string, lineCol: (offset: number) => string): void {
  if (node.type === 'object') {
    const seen = new Map<string, Node>();
    for (const property of node.children ?? []) {
      const [keyNode, valueNode] = property.children ?? [];
      if (!keyNode || typeof keyNode.value !== 'string') continue;
      const key = keyNode.value;
      const at = `${pointer}/${escapePointer(key)}`;
      const first = seen.get(key);
      if (first) {
        const problem = `${at}: duplicate key '${key}' (first at ${lineCol(first.offset)}); keep one`;
        throw new GenrepError(`${file}:${lineCol(keyNode.offset)}: ${problem}`, 'BAD_INPUT', { file, field: at });
      }
      seen.set(key, keyNode);
      if (valueNode) refuseDuplicateKeys(valueNode, at, file, lineCol);
    }
  } else if (node.type === 'array') {
    (node.children ?? []).forEach((child, i) => refuseDuplicateKeys(child, `${pointer}/${i}`, file, lineCol));
  }
}

/** oneOf/anyOf failures repeat every branch's complaint; the branch errors already say what is wrong. */
/** Every useful schema error of `file`, each at its line:column, as one BAD_INPUT error (one line when there is one). */
export function refuseSchemaErrors(
  file: string,
  errors: ErrorObject[] | null | undefined,
  locate: (pointer: string, atKey?: boolean) => string,
): never {
  const problems = (errors ?? []).filter(isUseful).map((e) => describeError(e, locate));
  throw new GenrepError(
    problems.length === 1 && problems[0] !== undefined
      ? problems[0]
      : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`,
    'BAD_INPUT',
    { file, field: errors?.[0]?.instancePath || '/' },
  );
}

export function isUseful(e: ErrorObject): boolean {
  return e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if';
}

export function describeError(e: ErrorObject, locate: (pointer: string, atKey?: boolean) => string): string {
  const pointer = e.instancePath || '/';
  let problem = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    return `${locate(`${e.instancePath}/${escapePointer(key)}`, true)}: ${e.instancePath}/${key}: unknown key '${key}'`;
  }
  if (e.keyword === 'enum')
    problem = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'const')
    problem = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  return `${locate(e.instancePath)}: ${pointer}: ${problem}`;
}

/** The value's node, or with atKey its property's key (where an unknown key is reported). */
export function nodeFor(tree: Node, pointer: string, atKey: boolean): Node {
  if (pointer === '' || pointer === '/') return tree;
  const segments = pointerSegments(pointer);
  // A pointer into something absent falls back to the deepest node that exists.
  for (let n = segments.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, segments.slice(0, n));
    if (node) return atKey && node.parent?.type === 'property' ? node.parent : node;
  }
  return tree;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function lineColumnOf(text: string): (offset: number) => string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  // Binary search: 0 <= lo <= mid <= hi < starts.length, and starts is never empty.
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return `${lo + 1}:${offset - starts[lo]! + 1}`;
  };
}

function resolvePaths(config: RunConfig, base: string): void {
  const abs = (p: string): string => path.resolve(base, p);
  const ds = config.dataset;
  if (ds.root !== undefined) ds.root = abs(ds.root);
  if (ds.groundTruthDir !== undefined) ds.groundTruthDir = abs(ds.groundTruthDir);
  for (const f of ds.files ?? []) f.path = abs(f.path);
  config.output = abs(config.output);
  if (config.cacheDir !== undefined) config.cacheDir = abs(config.cacheDir);
  if (config.modelDir !== undefined) config.modelDir = abs(config.modelDir);
  const emb = config.embedder;
  config.embedder = Array.isArray(emb) ? emb.map((e) => resolveEmbedderPath(e, abs)) : resolveEmbedderPath(emb, abs);
}

function resolveEmbedderPath(emb: EmbedderConfig, abs: (p: string) => string): EmbedderConfig {
  // A string that looks like a file (has a separator or a model extension) is a path; otherwise a known name.
  if (typeof emb === 'string' && (emb.includes('/') || emb.includes('\\') || /\.(pt|onnx|encoder\.json)$/i.test(emb))) {
    return abs(emb);
  } else if (typeof emb === 'object' && emb.kind === 'onnx') {
    emb.path = abs(emb.path);
  } else if (typeof emb === 'object' && emb.kind === 'encoder') {
    emb.descriptor = abs(emb.descriptor);
  } else if (
    typeof emb === 'object' &&
    emb.kind === 'beats' &&
    (emb.checkpoint.includes('/') || emb.checkpoint.endsWith('.pt'))
  ) {
    emb.checkpoint = abs(emb.checkpoint);
  }
  return emb;
}
