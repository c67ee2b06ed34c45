import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GenrepError } from '../../worker/src/errors';
import { errorCodeName, WORKER_ERROR_CODES } from '../../worker/src/protocol/errors';
import { toResponseError } from '../../worker/src/server/errorMapping';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GenrepError → JSON-RPC error', () => {
  it('keeps the code, the file, the field and the expectation, and numbers the code from the published table', () => {
    const err = toResponseError(
      new GenrepError('/b/x.grbank: wrong embedder', 'BAD_INPUT', {
        file: '/b/x.grbank',
        field: 'embedder',
        expected: 'fbank-stats:v1',
      }),
    );
    expect(err.code).toBe(-32002);
    expect(err.message).toBe('/b/x.grbank: wrong embedder');
    expect(err.data).toEqual({ code: 'BAD_INPUT', file: '/b/x.grbank', field: 'embedder', expected: 'fbank-stats:v1' });
  });

  it("adds the range of a JSON pointer into the file, and fills in the request's file when the error names only a field", () => {
    const file = path.join(dir, 'a.genrep.json');
    writeFileSync(file, '{\n  "dataset": { "root": "data" },\n  "mixup": { "K_s": 5000, "lambda": 0.9 }\n}\n');
    const err = toResponseError(
      new GenrepError(`${file}:3:20: /mixup/K_s: K_s = 5000 exceeds the 990 source clips`, 'BAD_INPUT', {
        field: '/mixup/K_s',
      }),
      { defaultFile: file },
    );
    expect(err.data).toEqual({
      code: 'BAD_INPUT',
      file,
      field: '/mixup/K_s',
      range: { start: { line: 2, character: 20 }, end: { line: 2, character: 24 } },
    });
  });

  it("falls back to the message's file:line:col when there is no pointer", () => {
    const file = path.join(dir, 'broken.genrep.json');
    writeFileSync(file, '{ oops');
    const err = toResponseError(new GenrepError(`${file}:1:3: invalid JSON (InvalidSymbol)`, 'BAD_INPUT', { file }));
    expect(err.data?.range).toEqual({ start: { line: 0, character: 2 }, end: { line: 0, character: 2 } });
  });

  it('reports a cancel as LSP RequestCancelled, from GenrepError or an AbortError', () => {
    expect(toResponseError(new GenrepError('cancelled', 'CANCELLED')).code).toBe(-32800);
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(toResponseError(abort).code).toBe(-32800);
  });

  it('reports anything else as InternalError without the stack, which goes to the log', () => {
    const logged: string[] = [];
    const err = toResponseError(new TypeError("Cannot read properties of undefined (reading 'x')"), {
      logInternal: (t) => logged.push(t),
    });
    expect(err.code).toBe(-32603);
    expect(err.message).toMatch(/^internal error: Cannot read properties/);
    expect(err.data).toEqual({ code: 'INTERNAL' });
    expect(logged[0]).toMatch(/TypeError.*\n\s+at /);
  });

  it('has a distinct number for each code, within JSON-RPC server-error range or LSP/JSON-RPC standard codes', () => {
    const numbers = Object.values(WORKER_ERROR_CODES);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const [name, n] of Object.entries(WORKER_ERROR_CODES)) {
      expect(n >= -32099 && n <= -32000 ? true : [-32800, -32603].includes(n), name).toBe(true);
      expect(errorCodeName(n)).toBe(name);
    }
    expect(errorCodeName(-1)).toBe('INTERNAL');
  });
});
