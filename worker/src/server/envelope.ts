import { ErrorCodes, type Message, type ResponseMessage } from 'vscode-jsonrpc';

/**
 * JSON-RPC 2.0's rules for what a message must look like, checked before vscode-jsonrpc sees it: the library drops
 * what it cannot classify without a word (a number, an array, an object id, a missing method), so the client's
 * request would wait forever. Here each such message is answered as the specification says — InvalidRequest
 * (−32600) with the request's id when it has a usable one, else null; only a malformed response (nobody waits for
 * an answer to it) and a `$/cancelRequest` notification without a usable id are merely logged.
 *
 * Batches (arrays) are not supported: the LSP base protocol that this worker speaks never sends them. Each request
 * in a batch gets its own InvalidRequest in one array response, as the specification shapes batch replies; an empty
 * batch gets a single InvalidRequest; a batch of notifications only gets logged.
 */
export type Verdict =
  /** A well-formed message for vscode-jsonrpc. */
  | { kind: 'pass'; message: Message }
  /** Refused with these responses (an array for a batch). */
  | { kind: 'reply'; response: ResponseMessage | ResponseMessage[]; reason: string }
  /** Refused, but it was a notification: nobody waits for an answer. */
  | { kind: 'drop'; reason: string };

export type RequestId = string | number | null;

export function errorResponse(id: RequestId, code: number, message: string): ResponseMessage {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function invalidRequest(id: RequestId, problem: string): ResponseMessage {
  return errorResponse(id, ErrorCodes.InvalidRequest, `invalid request: ${problem}`);
}

/** A usable id: a string or a finite number (JSON-RPC also allows null, which cannot be told apart from an error). */
export function usableId(id: unknown): string | number | undefined {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}

export function checkEnvelope(value: unknown): Verdict {
  return Array.isArray(value) ? checkBatch(value) : checkSingle(value);
}

function checkSingle(value: unknown): Verdict {
  const problem = envelopeProblem(value);
  if (problem === undefined) return { kind: 'pass', message: withoutNullParams(value as Message) };
  // Nobody waits for an answer to a response, nor to a notification (a cancel whose params are unusable).
  if (isObject(value) && (isResponseLike(value) || (value['method'] === '$/cancelRequest' && !('id' in value)))) {
    return { kind: 'drop', reason: problem };
  }
  const id = isObject(value) ? (usableId(value['id']) ?? null) : null;
  return { kind: 'reply', response: invalidRequest(id, problem), reason: problem };
}

function isResponseLike(value: Record<string, unknown>): boolean {
  return !('method' in value) && ('result' in value || 'error' in value);
}

function checkBatch(batch: unknown[]): Verdict {
  if (batch.length === 0) {
    const reason = 'an empty batch (an empty array)';
    return { kind: 'reply', response: invalidRequest(null, reason), reason };
  }
  const responses: ResponseMessage[] = [];
  for (const element of batch) {
    const verdict = checkSingle(element);
    if (verdict.kind === 'reply') {
      responses.push(verdict.response as ResponseMessage);
    } else if (verdict.kind === 'pass' && 'id' in verdict.message) {
      const id = usableId((verdict.message as { id: unknown }).id) ?? null;
      if ('method' in verdict.message) {
        responses.push(invalidRequest(id, 'batches are not supported; send each request in its own message'));
      }
    }
  }
  const reason = `a batch of ${batch.length} message${batch.length === 1 ? '' : 's'} (batches are not supported)`;
  return responses.length > 0 ? { kind: 'reply', response: responses, reason } : { kind: 'drop', reason };
}

/** What is wrong with a single message, in words, or undefined when it is a request, notification or response. */
function envelopeProblem(value: unknown): string | undefined {
  if (!isObject(value)) return `a JSON-RPC message must be an object, got ${kindOf(value)}`;
  if (value['jsonrpc'] !== '2.0') return `"jsonrpc" must be "2.0", got ${describe(value['jsonrpc'])}`;
  if ('id' in value && usableId(value['id']) === undefined) {
    if (value['id'] === null && 'method' in value) {
      return 'a request id of null cannot be answered distinctly; use a string or a number';
    }
    if (value['id'] !== null) return `"id" must be a string or a number, got ${kindOf(value['id'])}`;
  }
  if ('method' in value) {
    if (typeof value['method'] !== 'string') return `"method" must be a string, got ${kindOf(value['method'])}`;
    if ('params' in value && value['params'] !== null && typeof value['params'] !== 'object') {
      return `"params" must be an object or an array, got ${kindOf(value['params'])}`;
    }
    if (value['method'] === '$/cancelRequest' && usableId(paramsId(value['params'])) === undefined) {
      return '$/cancelRequest needs params {"id": <the request\'s id>}';
    }
    return undefined;
  }
  if (isResponseLike(value)) {
    if ('result' in value && 'error' in value) return 'a response has either "result" or "error", not both';
    if (!('id' in value)) return 'a response needs an "id"';
    return undefined;
  }
  return 'no "method" (a request or notification) and no "result" or "error" (a response)';
}

function paramsId(params: unknown): unknown {
  return isObject(params) ? params['id'] : undefined;
}

/** `"params": null` is read as no params: some LSP clients send it for shutdown and exit. */
function withoutNullParams(message: Message): Message {
  if (!('params' in message) || message.params !== null) return message;
  const { params: _ignored, ...rest } = message;
  return rest;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value === 'number' || typeof value === 'boolean' ? 'the ' : 'a '}${typeof value} ${describe(value)}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
