import * as path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';
import { JSON_RPC_CODES, WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';
import { PROTOCOL_VERSION, WORKER_NOTIFICATIONS, WORKER_REQUESTS } from '../../worker/src/protocol/workerProtocol';

/**
 * schemas/protocol/ from the TypeScript declarations (worker/src/protocol/workerProtocol.ts), so a worker written in
 * another language implements exactly what the extension sends and expects. Run by test/protocol/schemas.test.ts,
 * which fails while the checked-in files differ; `UPDATE_PROTOCOL_SCHEMAS=1 npx vitest run test/protocol` rewrites them.
 */
export const ROOT = path.resolve(__dirname, '..', '..');
export const SCHEMA_DIR = path.join(ROOT, 'schemas', 'protocol');
export const SCHEMA_FILE = 'genrep-protocol.schema.json';
export const METHODS_FILE = 'methods.json';
const SCHEMA_ID = 'https://genrep.invalid/schemas/protocol/genrep-protocol.schema.json';

/** The types everything else hangs from; the generator follows their references. */
const ROOT_TYPES = ['WorkerRequests', 'WorkerNotifications', 'InitializeParams', 'InitializeResult', 'ProgressParams'];

type Definitions = Record<string, Record<string, unknown>>;

export function generateProtocolSchemas(): { schema: Record<string, unknown>; methods: Record<string, unknown> } {
  const generator = createGenerator({
    path: path.join(ROOT, 'worker', 'src', 'protocol', 'workerProtocol.ts'),
    tsconfig: path.join(ROOT, 'worker', 'tsconfig.json'),
    expose: 'export',
    topRef: true,
    jsDoc: 'extended',
    skipTypeCheck: true,
    additionalProperties: false,
    sortProps: true,
  });
  const definitions: Definitions = {};
  for (const type of ROOT_TYPES) Object.assign(definitions, generator.createSchema(type).definitions as Definitions);
  const sorted = Object.fromEntries(
    Object.keys(definitions)
      .sort()
      .map((k) => [k, definitions[k]!]),
  );
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'GenRep worker protocol',
    description:
      'Params, results and notifications of the GenRep worker protocol (JSON-RPC 2.0 over stdio with LSP base framing). Generated from worker/src/protocol/workerProtocol.ts; do not edit. methods.json lists the methods with their params and result definitions.',
    definitions: sorted,
  };

  const requestTable = sorted['WorkerRequests'] as {
    properties: Record<string, { properties: { params: { $ref: string }; result: { $ref: string } } }>;
  };
  const notificationTable = sorted['WorkerNotifications'] as { properties: Record<string, { $ref: string }> };
  const ref = (r: string): string => `${SCHEMA_FILE}${r}`;
  const methods = {
    $comment:
      'Generated from worker/src/protocol/workerProtocol.ts by test/protocol/generateProtocolSchemas.ts; do not edit.',
    protocolVersion: PROTOCOL_VERSION,
    transport:
      "JSON-RPC 2.0 over the worker's stdin/stdout with the Language Server Protocol's base framing: 'Content-Length: <bytes>\\r\\n\\r\\n' then the UTF-8 JSON body. stdout carries nothing else.",
    lifecycle: {
      initialize: { params: ref('#/definitions/InitializeParams'), result: ref('#/definitions/InitializeResult') },
      initialized: { notification: true },
      shutdown: { result: null },
      exit: { notification: true, note: 'exit code 0 after shutdown, 1 otherwise' },
    },
    requests: Object.fromEntries(
      Object.entries(WORKER_REQUESTS).map(([method, info]) => {
        const entry = requestTable.properties[method];
        if (!entry) throw new Error(`${method} is in WORKER_REQUESTS but not in the WorkerRequests type`);
        return [
          method,
          {
            params: ref(entry.properties.params.$ref),
            result: ref(entry.properties.result.$ref),
            job: info.job,
            summary: info.summary,
          },
        ];
      }),
    ),
    notifications: {
      ...Object.fromEntries(
        WORKER_NOTIFICATIONS.map((n) => [
          n,
          { direction: 'worker → client', params: ref(notificationTable.properties[n]!.$ref) },
        ]),
      ),
      '$/progress': {
        direction: 'worker → client',
        params: ref('#/definitions/ProgressParams'),
        note: "Only for requests whose params carry a workDoneToken (the 'job' methods): begin, any number of reports, end.",
      },
      '$/cancelRequest': {
        direction: 'client → worker',
        params: { id: 'the JSON-RPC id of the request to cancel' },
        note: 'A job stops at its next clip boundary, leaving caches with complete entries only, and its request fails with code -32800.',
      },
    },
    errors: {
      note: 'Failures are JSON-RPC errors: code from this table, data = WorkerErrorData (code name, file, JSON pointer, expected, range). Invalid params: -32602 with data.field.',
      data: ref('#/definitions/WorkerErrorData'),
      codes: WORKER_ERROR_CODES,
      invalidParams: JSON_RPC_CODES.INVALID_PARAMS,
    },
  };
  return { schema, methods };
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
