import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { parseRunConfig, schemaPath } from '../config/loadConfig';
import { validateAgainstDataset, type ConfigFinding } from '../config/validateAgainstDataset';
import type { Dataset, DiscoverOptions } from '../datasets';
import { GenrepError } from '../errors';
import type { ConfigDiagnostic, ValidateConfigResult } from '../protocol/workerProtocol';
import { closestName } from '../util/closestName';
import { MAX_JSON_DEPTH, nestingTooDeep } from '../util/jsonScanner';
import { LineIndex, nodeAtPointer } from './jsonLocations';

/**
 * Diagnostics for a run config, each with the range of the offending text: JSON syntax errors and every schema
 * violation (ajv with allErrors, against the same schemas/run-config.schema.json that loadRunConfig enforces at run
 * time) from validateConfigText; then, in validateConfigWithDataset, what the run checks once the schema passes.
 * The editor shows these as the only diagnostics of a run config (its JSON service gets a completion-only schema,
 * schemas/run-config.completion.schema.json), so each mistake is said once, in the run's words.
 */
let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  // verbose: an unknown key's error carries its object's schema, whose property names give the "did you mean".
  validator ??= new Ajv2020({ allErrors: true, strict: false, verbose: true }).compile(
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
      code: 'parse',
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
  }
  return { file, valid: !diagnostics.some((d) => d.severity === 'error'), diagnostics };
}

/**
 * Everything `genrep run` would refuse, as diagnostics: syntax and schema (validateConfigText, paths aside), then —
 * once those pass — duplicate keys and the semantic checks against the dataset as discovered
 * (config/validateAgainstDataset.ts, which the run applies before extracting). `discover` may reuse recent walks.
 */
export async function validateConfigWithDataset(
  text: string,
  file: string,
  discover?: (options: DiscoverOptions) => Promise<Dataset>,
): Promise<ValidateConfigResult> {
  const first = validateConfigText(text, file);
  if (!first.valid) return first;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!tree) return first;
  const lines = new LineIndex(text);
  const loaded = (() => {
    try {
      return parseRunConfig(text, file);
    } catch (err) {
      if (!(err instanceof GenrepError)) throw err;
      const pointer = err.data.field ?? '';
      // The loader's message starts with file:line:col: pointer: — the range says where, the rest says what.
      const message = err.message.replace(/^.*?:\d+:\d+: /, '');
      return { error: { pointer, message } };
    }
  })();
  if ('error' in loaded) {
    const { pointer, message } = loaded.error;
    const diagnostic: ConfigDiagnostic = {
      range: underline(tree, pointer, true, lines),
      severity: 'error',
      message,
      pointer,
      source: 'json',
      code: 'duplicate-key',
    };
    return { file, valid: false, diagnostics: [diagnostic] };
  }
  const findings = await validateAgainstDataset(loaded.config, {
    file,
    written: loaded.written,
    ...(discover ? { discover } : {}),
  });
  const diagnostics = findings.map((f) => findingDiagnostic(f, tree, lines));
  return { file, valid: !diagnostics.some((d) => d.severity === 'error'), diagnostics };
}

function findingDiagnostic(f: ConfigFinding, tree: Node, lines: LineIndex): ConfigDiagnostic {
  return {
    range: underline(tree, f.pointer, f.atKey === true, lines),
    severity: f.severity,
    message: `${f.pointer || '/'}: ${f.message}`,
    pointer: f.pointer,
    source: f.source,
    code: f.code,
    ...(f.fix ? { fix: f.fix } : {}),
  };
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
  const byPlace = new Map<
    string,
    { pointer: string; atKey: boolean; messages: string[]; fix: ConfigDiagnostic['fix']; code: string | undefined }
  >();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    let pointer = e.instancePath;
    let atKey = false;
    let message = e.message ?? 'invalid';
    let fix: ConfigDiagnostic['fix'];
    let code: string | undefined;
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      pointer = `${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      atKey = true;
      code = 'unknown-key';
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const present = Object.keys((e.data as object | undefined) ?? {});
      const guess = closestName(
        key,
        known.filter((k) => !present.includes(k)),
      );
      message = `unknown key '${key}'${guess ? `; did you mean '${guess}'?` : ''}`;
      if (guess) fix = { title: `Rename to '${guess}'`, pointer, renameKeyTo: guess };
    } else if (e.keyword === 'required') {
      message = `missing required key '${(e.params as { missingProperty: string }).missingProperty}'`;
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    }
    const placeKey = `${pointer}\u0000${atKey}`;
    const place = byPlace.get(placeKey) ?? { pointer, atKey, messages: [], fix, code };
    if (!place.messages.includes(message)) place.messages.push(message);
    byPlace.set(placeKey, place);
  }
  return [...byPlace.values()].map(({ pointer, atKey, messages, fix, code }) => ({
    range: underline(tree, pointer, atKey, lines),
    severity: 'error' as const,
    message: `${pointer || '/'}: ${messages.join(', or ')}`,
    pointer,
    source: 'schema' as const,
    ...(code ? { code } : {}),
    ...(fix ? { fix } : {}),
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
