import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { schemaPath } from '../config/loadConfig';
import type { ConfigDiagnostic, ValidateConfigResult } from '../protocol/workerProtocol';
import { MAX_JSON_DEPTH, nestingTooDeep } from '../util/jsonScanner';
import { LineIndex, nodeAtPointer } from './jsonLocations';

/**
 * Diagnostics for a run config, each with the range of the offending text: JSON syntax errors, every schema
 * violation (ajv with allErrors, against the same schemas/run-config.schema.json that `contributes.jsonValidation`
 * gives the editor and that loadRunConfig enforces at run time), and paths that do not exist. The run itself still
 * goes through loadRunConfig; this is the same check made precise enough to underline.
 */
let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  validator ??= new Ajv2020({ allErrors: true, strict: false }).compile(
    JSON.parse(readFileSync(schemaPath(), 'utf8')) as object,
  );
  return validator;
}

export function validateConfigText(text: string, file: string): ValidateConfigResult {
  // A byte-order mark is not JSON; the run skips it (loadRunConfig), so the diagnostics do too.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = new LineIndex(text);
  const diagnostics: ConfigDiagnostic[] = [];
  // jsonc-parser recurses once per level and overflows the stack a few thousand levels down.
  const tooDeep = nestingTooDeep(text, MAX_JSON_DEPTH, { comments: true });
  if (tooDeep !== undefined) {
    const message = `JSON nested deeper than ${MAX_JSON_DEPTH} levels (a run config nests a few)`;
    diagnostics.push({ range: lines.range(tooDeep, 1), severity: 'error', message, pointer: '', source: 'json' });
    return { file, valid: false, diagnostics };
  }
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  for (const e of parseErrors) {
    diagnostics.push({
      range: lines.range(e.offset, Math.max(e.length, 1)),
      severity: 'error',
      message: `invalid JSON: ${describeParseError(e)}`,
      pointer: '',
      source: 'json',
    });
  }
  if (!tree) {
    if (diagnostics.length === 0)
      diagnostics.push({
        range: lines.range(0, 0),
        severity: 'error',
        message: 'empty file: a run config is a JSON object',
        pointer: '',
        source: 'json',
      });
    return { file, valid: false, diagnostics };
  }
  if (parseErrors.length === 0) {
    const value = getNodeValue(tree) as unknown;
    const validate = getValidator();
    if (!validate(value)) diagnostics.push(...schemaDiagnostics(validate.errors ?? [], tree, lines));
    else
      diagnostics.push(
        ...pathDiagnostics(value as Record<string, unknown>, tree, lines, path.dirname(path.resolve(file))),
      );
  }
  return { file, valid: !diagnostics.some((d) => d.severity === 'error'), diagnostics };
}

export function validateConfigFile(file: string, text?: string): ValidateConfigResult {
  return validateConfigText(text ?? readFileSync(file, 'utf8'), file);
}

function describeParseError(e: ParseError): string {
  const names: Record<string, string> = {
    InvalidSymbol: 'unexpected character',
    InvalidNumberFormat: 'malformed number',
    PropertyNameExpected: 'expected a property name in double quotes',
    ValueExpected: 'expected a value',
    ColonExpected: "expected ':'",
    CommaExpected: "expected ','",
    CloseBraceExpected: "expected '}'",
    CloseBracketExpected: "expected ']'",
    EndOfFileExpected: 'expected the end of the file',
    UnexpectedEndOfComment: 'unterminated comment',
    UnexpectedEndOfString: 'unterminated string',
  };
  const code = printParseErrorCode(e.error);
  return names[code] ?? code;
}

/**
 * One diagnostic per place: oneOf/anyOf failures repeat every branch's complaint, so the branch messages at one
 * pointer are joined with "or" and the summary keywords themselves are dropped.
 */
function schemaDiagnostics(errors: ErrorObject[], tree: Node, lines: LineIndex): ConfigDiagnostic[] {
  const byPlace = new Map<string, { pointer: string; atKey: boolean; messages: string[] }>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    let pointer = e.instancePath;
    let atKey = false;
    let message = e.message ?? 'invalid';
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      pointer = `${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      atKey = true;
      message = `unknown key '${key}'`;
    } else if (e.keyword === 'required') {
      message = `missing required key '${(e.params as { missingProperty: string }).missingProperty}'`;
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    }
    const placeKey = `${pointer}\u0000${atKey}`;
    const place = byPlace.get(placeKey) ?? { pointer, atKey, messages: [] };
    if (!place.messages.includes(message)) place.messages.push(message);
    byPlace.set(placeKey, place);
  }
  return [...byPlace.values()].map(({ pointer, atKey, messages }) => ({
    range: underline(tree, pointer, atKey, lines),
    severity: 'error' as const,
    message: `${pointer || '/'}: ${messages.join(', or ')}`,
    pointer,
    source: 'schema' as const,
  }));
}

/** An object or array value spans many lines; underline its key instead (or its first character at the root). */
function underline(tree: Node, pointer: string, atKey: boolean, lines: LineIndex): ConfigDiagnostic['range'] {
  const node = nodeAtPointer(tree, pointer, atKey);
  if ((node.type === 'object' || node.type === 'array') && !atKey) {
    const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    return key ? lines.range(key.offset, key.length) : lines.range(node.offset, 1);
  }
  return lines.range(node.offset, node.length);
}

/** Paths the run will need, checked after the schema passes: warnings, since a drive may be mounted later. */
function pathDiagnostics(
  config: Record<string, unknown>,
  tree: Node,
  lines: LineIndex,
  base: string,
): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const check = (pointer: string, value: unknown, what: string): void => {
    if (typeof value !== 'string' || value === '') return;
    const resolved = path.resolve(base, value);
    if (!existsSync(resolved)) {
      out.push({
        range: underline(tree, pointer, false, lines),
        severity: 'warning',
        message: `${pointer}: ${what} not found: ${resolved}`,
        pointer,
        source: 'file',
      });
    }
  };
  const dataset = config['dataset'] as Record<string, unknown> | undefined;
  check('/dataset/root', dataset?.['root'], 'dataset root');
  check('/dataset/groundTruthDir', dataset?.['groundTruthDir'], 'ground-truth folder');
  const embedder = config['embedder'];
  if (
    typeof embedder === 'string' &&
    (embedder.includes('/') || embedder.includes('\\') || /\.(pt|onnx)$/i.test(embedder))
  ) {
    check('/embedder', embedder, 'embedder file');
  } else if (typeof embedder === 'object' && embedder !== null) {
    const e = embedder as Record<string, unknown>;
    if (e['kind'] === 'onnx') check('/embedder/path', e['path'], 'ONNX model');
    const checkpoint = e['checkpoint'];
    if (
      e['kind'] === 'beats' &&
      typeof checkpoint === 'string' &&
      (checkpoint.includes('/') || checkpoint.endsWith('.pt'))
    )
      check('/embedder/checkpoint', checkpoint, 'checkpoint');
  }
  return out;
}
