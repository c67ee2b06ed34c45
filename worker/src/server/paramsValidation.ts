import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { ResponseError } from 'vscode-jsonrpc';
import { GenrepError } from '../errors';
import { JSON_RPC_CODES, type WorkerErrorData } from '../protocol/errors';
import type { WorkerMethod } from '../protocol/workerProtocol';
import { projectFile } from '../paths';

/**
 * Incoming params are checked against the published protocol schema (schemas/protocol/), so the schema another
 * worker or client implements from is the one this worker enforces, and a malformed request fails with
 * InvalidParams naming the field instead of somewhere deep in a job.
 */
export const PROTOCOL_SCHEMA_FILE = 'genrep-protocol.schema.json';

export function protocolSchemaDir(): string {
  return path.dirname(projectFile('schemas', 'protocol', PROTOCOL_SCHEMA_FILE));
}

interface ProtocolSchema {
  $id: string;
  definitions: { WorkerRequests: { properties: Record<string, { properties: { params: { $ref: string } } }> } };
}

let ajv: Ajv | undefined;
let schema: ProtocolSchema | undefined;
const validators = new Map<string, ValidateFunction>();

function validatorFor(key: string, definition: (schema: ProtocolSchema) => string | undefined): ValidateFunction {
  let validate = validators.get(key);
  if (validate) return validate;
  if (!ajv || !schema) {
    schema = JSON.parse(readFileSync(path.join(protocolSchemaDir(), PROTOCOL_SCHEMA_FILE), 'utf8')) as ProtocolSchema;
    ajv = new Ajv({ allErrors: false, strict: false });
    ajv.addSchema(schema);
  }
  const ref = definition(schema);
  if (!ref) {
    throw new GenrepError(`the protocol schema has no params for ${key}; regenerate schemas/protocol`, 'INTERNAL');
  }
  validate = ajv.compile({ $ref: `${schema.$id}${ref}` });
  validators.set(key, validate);
  return validate;
}

/**
 * Throws InvalidParams naming the first problem. Absent params (vscode-jsonrpc passes none when the message has
 * no `params` member) are checked as an empty object, so the error names what is missing.
 */
export function checkParams(method: WorkerMethod, params: unknown): void {
  const validate = validatorFor(method, (s) => s.definitions.WorkerRequests.properties[method]?.properties.params.$ref);
  check(method, validate, params);
}

/** LSP's initialize: processId is required, and the settings must have the types the worker will use them as. */
export function checkInitializeParams(params: unknown): void {
  check(
    'initialize',
    validatorFor('initialize', () => '#/definitions/InitializeParams'),
    params,
  );
}

function check(method: string, validate: ValidateFunction, params: unknown): void {
  if (validate(params ?? {})) return;
  const e = validate.errors?.[0];
  const where = e?.instancePath || '/';
  let problem = e?.message ?? 'invalid';
  if (e?.keyword === 'additionalProperties')
    problem = `unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  if (e?.keyword === 'enum')
    problem = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  const what = params === undefined ? 'no params given' : 'invalid params';
  const message = `${method}: ${what}: ${where}: ${problem}`;
  throw new ResponseError<WorkerErrorData>(JSON_RPC_CODES.INVALID_PARAMS, message, { code: 'BAD_INPUT', field: where });
}
