import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSupervisor, type ExitInfo } from '../../extension/src/supervisor';
import { WORKER_EXIT_CODES } from '../../worker/src/protocol/errors';
import {
  nodeLauncher,
  rejectionOf,
  startWorker,
  stopWorker,
  WORKER_MAIN,
  type TestWorker,
} from '../server/workerProcess';

/**
 * The worker process against a hostile client (issue 9 item 7): malformed frames and messages written as raw bytes
 * to its stdin, next to the vscode-jsonrpc client the other tests use. Each message gets the JSON-RPC error the
 * specification prescribes, and the worker answers the next request; a byte stream that cannot be framed any more
 * ends the process with one logged line and status 65, and the supervisor starts a worker that answers. Every case's
 * reply (or exit) and time are printed, for the record.
 */
interface Reply {
  jsonrpc: string;
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** Every frame the worker writes, parsed independently of the vscode-jsonrpc client that reads the same stdout. */
function tapReplies(child: ChildProcess): (Reply | Reply[])[] {
  const seen: (Reply | Reply[])[] = [];
  let pending = Buffer.alloc(0);
  child.stdout!.on('data', (data: Buffer) => {
    pending = Buffer.concat([pending, data]);
    for (;;) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(pending.subarray(0, end).toString('ascii'))![1]);
      if (pending.length < end + 4 + length) return;
      seen.push(JSON.parse(pending.subarray(end + 4, end + 4 + length).toString('utf8')) as Reply | Reply[]);
      pending = pending.subarray(end + 4 + length);
    }
  });
  return seen;
}

function frame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]);
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Peak resident memory of a process so far (VmHWM), in MiB. */
function peakRssMib(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return kb / 1024;
}

/** What each case did, printed once at the end (the closing note quotes it). */
const record: string[] = [];
afterAll(() => {
  if (record.length > 0) process.stdout.write(`\nworker hostile cases:\n  ${record.join('\n  ')}\n`);
});

const DEEP = 100_000;
const deepArray = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-hostile-worker-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a worker that always answers', () => {
  let worker: TestWorker;
  let replies: (Reply | Reply[])[];
  beforeAll(async () => {
    worker = await startWorker();
    replies = tapReplies(worker.child);
  });
  afterAll(async () => {
    if (worker) expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  });

  /** Sends raw bytes, waits for the reply the predicate picks, then checks that a valid request still works. */
  async function exchange(
    name: string,
    bytes: Buffer,
    pick: (r: Reply | Reply[]) => boolean,
  ): Promise<Reply | Reply[]> {
    const before = replies.length;
    const started = Date.now();
    worker.child.stdin!.write(bytes);
    const reply = await waitFor(() => replies.slice(before).find(pick), 10_000, `the reply to ${name}`);
    const ms = Date.now() - started;
    const models = await worker.request('genrep/listModels', {});
    expect(models.models.length).toBeGreaterThan(0);
    record.push(
      `${name}: ${JSON.stringify(Array.isArray(reply) ? reply.map((r) => r.error ?? r.result) : (reply.error ?? 'result'))} in ${ms} ms; next request answered`,
    );
    return reply;
  }

  const errorWithId = (id: string | number | null) => (r: Reply | Reply[]) =>
    !Array.isArray(r) && r.id === id && r.error !== undefined;

  it.each([
    [
      'invalid JSON',
      frame('{"jsonrpc": "2.0", "method": "genrep/listModels", oops}'),
      -32700,
      /parse error: the message is not valid JSON/,
    ],
    ['an empty body (Content-Length: 0)', frame(''), -32700, /not valid JSON/],
    ['a number body', frame('42'), -32600, /must be an object, got the number 42/],
    ['a string body', frame('"genrep/listModels"'), -32600, /must be an object, got a string/],
    ['a null body', frame('null'), -32600, /must be an object, got null/],
    ['an empty batch', frame('[]'), -32600, /empty batch/],
    [
      'an object id',
      frame('{"jsonrpc":"2.0","id":{"a":1},"method":"genrep/listModels","params":{}}'),
      -32600,
      /"id" must be a string or a number, got an object/,
    ],
    [
      'an array id',
      frame('{"jsonrpc":"2.0","id":[1],"method":"genrep/listModels","params":{}}'),
      -32600,
      /"id" must be a string or a number, got an array/,
    ],
    [
      'a boolean id',
      frame('{"jsonrpc":"2.0","id":true,"method":"genrep/listModels","params":{}}'),
      -32600,
      /got the boolean true/,
    ],
    ['a null id', frame('{"jsonrpc":"2.0","id":null,"method":"genrep/listModels","params":{}}'), -32600, /id of null/],
    ['no id, no method, no result', frame('{"jsonrpc":"2.0","params":{}}'), -32600, /no "method"/],
  ])('answers %s with error %i and id null', async (name, bytes, code, message) => {
    const reply = (await exchange(name, bytes, errorWithId(null))) as Reply;
    expect(reply.error!.code).toBe(code);
    expect(reply.error!.message).toMatch(message);
  });

  it.each([
    [
      'a wrong jsonrpc version',
      '{"jsonrpc":"1.0","id":"v1","method":"genrep/listModels","params":{}}',
      'v1',
      -32600,
      /"jsonrpc" must be "2.0", got "1.0"/,
    ],
    [
      'no jsonrpc member',
      '{"id":"v2","method":"genrep/listModels","params":{}}',
      'v2',
      -32600,
      /"jsonrpc" must be "2.0", got nothing/,
    ],
    ['a missing method', '{"jsonrpc":"2.0","id":"m1","params":{}}', 'm1', -32600, /no "method"/],
    [
      'a method that is not a string',
      '{"jsonrpc":"2.0","id":"m2","method":7,"params":{}}',
      'm2',
      -32600,
      /"method" must be a string, got the number 7/,
    ],
    [
      'params that are a string',
      '{"jsonrpc":"2.0","id":"p1","method":"genrep/listModels","params":"all"}',
      'p1',
      -32600,
      /"params" must be an object or an array/,
    ],
    [
      'positional params',
      '{"jsonrpc":"2.0","id":"p2","method":"genrep/listDatasets","params":[{"roots":[]}]}',
      'p2',
      -32602,
      /invalid params: \/: must be object/,
    ],
    [
      'an unknown method',
      '{"jsonrpc":"2.0","id":"u1","method":"genrep/nothing","params":{}}',
      'u1',
      -32601,
      /unknown method 'genrep\/nothing'/,
    ],
    [
      'JSON that breaks off after the id',
      '{"jsonrpc":"2.0","id":"j1","method":"genrep/listModels","params":{',
      'j1',
      -32700,
      /not valid JSON/,
    ],
    [
      `params nested ${DEEP} deep in validateConfig`,
      `{"jsonrpc":"2.0","id":"d1","method":"genrep/validateConfig","params":{"file":"a.genrep.json","text":${deepArray}}}`,
      'd1',
      -32600,
      /nests deeper than 64 levels/,
    ],
    [
      `params nested ${DEEP} deep in run`,
      `{"jsonrpc":"2.0","method":"genrep/run","params":${deepArray},"id":"d2"}`,
      'd2',
      -32600,
      /nests deeper than 64 levels/,
    ],
  ])('answers %s with the request id', async (name, body, id, code, message) => {
    const reply = (await exchange(name, frame(body), errorWithId(id))) as Reply;
    expect(reply.error!.code).toBe(code);
    expect(reply.error!.message).toMatch(message);
  });

  it('answers each request of a batch with InvalidRequest in one array, and none of its notifications', async () => {
    const batch =
      '[{"jsonrpc":"2.0","id":"b1","method":"genrep/listModels","params":{}},{"jsonrpc":"2.0","method":"initialized","params":{}},5]';
    const reply = (await exchange('a batch (request, notification, number)', frame(batch), (r) =>
      Array.isArray(r),
    )) as Reply[];
    expect(reply.map((r) => [r.id, r.error?.code])).toEqual([
      ['b1', -32600],
      [null, -32600],
    ]);
    expect(reply[0]!.error!.message).toMatch(/batches are not supported/);
  });

  it('answers a float id (JSON-RPC discourages but allows it) as any request', async () => {
    const reply = (await exchange(
      'a float id',
      frame('{"jsonrpc":"2.0","id":2.5,"method":"genrep/listModels","params":{}}'),
      (r) => !Array.isArray(r) && r.id === 2.5,
    )) as Reply;
    expect(reply.result).toBeDefined();
  });

  it('logs a malformed notification it cannot answer, and goes on', async () => {
    const before = worker.stderr.join('').length;
    worker.child.stdin!.write(frame('{"jsonrpc":"2.0","method":"$/cancelRequest"}'));
    await worker.request('genrep/listModels', {});
    expect(worker.stderr.join('').slice(before)).toMatch(
      /^genrep worker: refused a message: \$\/cancelRequest needs params/m,
    );
    record.push('$/cancelRequest without params: no reply (a notification), logged; next request answered');
  });

  it('validates a request sent without params against the method schema, naming what is missing', async () => {
    const started = Date.now();
    const err = await rejectionOf(worker.connection.sendRequest('genrep/listDatasets'));
    expect(err.code).toBe(-32602);
    expect(err.message).toBe("genrep/listDatasets: no params given: /: must have required property 'roots'");
    expect(err.data).toMatchObject({ code: 'BAD_INPUT', field: '/' });
    // Methods whose params are all optional accept none.
    expect(await worker.connection.sendRequest<object>('genrep/listModels')).toHaveProperty('models');
    record.push(
      `listDatasets without params: -32602 "${err.message}" in ${Date.now() - started} ms; listModels without params answered`,
    );
  });

  it(`reports a run config text nested ${DEEP} deep as a diagnostic, not a stack overflow`, async () => {
    const started = Date.now();
    const result = await worker.request('genrep/validateConfig', {
      file: path.join(dir, 'deep.genrep.json'),
      text: `{"dataset": ${deepArray}}`,
    });
    expect(result.valid).toBe(false);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'error',
        source: 'json',
        message: expect.stringMatching(/nested deeper than 64 levels/) as unknown,
      }),
    ]);
    expect(result.diagnostics[0]!.range.start).toEqual({ line: 0, character: 12 + 63 });
    record.push(
      `validateConfig text nested ${DEEP} deep: diagnostic "${result.diagnostics[0]!.message}" in ${Date.now() - started} ms`,
    );
  });

  it(`refuses a run config file nested ${DEEP} deep with BAD_INPUT naming the file and place`, async () => {
    const configFile = path.join(dir, 'deep-run.genrep.json');
    writeFileSync(configFile, `{"dataset": ${'{"a": '.repeat(DEEP)}1${'}'.repeat(DEEP)}}`);
    const started = Date.now();
    const err = await rejectionOf(worker.request('genrep/run', { configFile }));
    expect(err.code).toBe(-32002);
    expect(err.message).toBe(
      `${configFile}:1:${13 + 6 * 63}: nested more than 64 levels deep; a run config needs only a few`,
    );
    expect(err.data).toMatchObject({ code: 'BAD_INPUT', file: configFile });
    record.push(
      `run with a config file nested ${DEEP} deep: ${err.code} "${path.basename(err.message)}" in ${Date.now() - started} ms`,
    );
  });

  it('rejects initialize params of the wrong types', async () => {
    const err = await rejectionOf(
      worker.connection.sendRequest('initialize', { processId: null, initializationOptions: { modelDir: 5 } }),
    );
    expect(err.code).toBe(-32602);
    expect(err.message).toBe('initialize: invalid params: /initializationOptions/modelDir: must be string');
  });
});

describe('a message over the size limit', () => {
  it('is refused as it streams past (200 MiB string param): bounded memory, an answer, and the worker goes on', async () => {
    const worker = await startWorker();
    const replies = tapReplies(worker.child);
    const before = peakRssMib(worker.pid);
    const head = Buffer.from(
      '{"jsonrpc":"2.0","id":"big","method":"genrep/validateConfig","params":{"file":"a.genrep.json","text":"',
    );
    const tail = Buffer.from('"}}');
    const stringBytes = 200 * 1024 * 1024;
    const length = head.length + stringBytes + tail.length;
    const stdin = worker.child.stdin!;
    const write = (bytes: Buffer): Promise<void> =>
      new Promise((resolve) => (stdin.write(bytes) ? resolve() : stdin.once('drain', () => resolve())));
    const started = Date.now();
    await write(Buffer.from(`Content-Length: ${length}\r\n\r\n`));
    await write(head);
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    for (let i = 0; i < stringBytes / chunk.length; i++) await write(chunk);
    await write(tail);
    const reply = await waitFor(
      () => replies.find((r) => !Array.isArray(r) && r.id === 'big') as Reply | undefined,
      30_000,
      'the refusal',
    );
    const ms = Date.now() - started;
    expect(reply.error).toEqual({
      code: -32600,
      message: `message refused: ${length} bytes (200.0 MiB) is over the worker's limit of 64 MiB per message`,
    });
    expect(await worker.request('genrep/listModels', {})).toHaveProperty('models');
    const peak = peakRssMib(worker.pid);
    // Never buffered (that alone would add 200 MiB, its decoding as much again): what grows is the garbage of
    // the pipe's 64 KiB reads, which V8 lets reach about 64 MiB of external memory before it collects them.
    expect(peak - before).toBeLessThan(128);
    record.push(
      `200 MiB string param: -32600 "${reply.error!.message}" after ${ms} ms of streaming; peak RSS ${before.toFixed(0)} → ${peak.toFixed(0)} MiB; next request answered`,
    );
    expect(await stopWorker(worker)).toEqual({ code: 0, signal: null });
  });
});

describe('a byte stream that cannot be framed', () => {
  const STALL_MS = 1000;
  const SHORT_REQUEST = '{"jsonrpc":"2.0","id":"l1","method":"genrep/listModels","params":{}}';
  // Each case ends a worker; allow them all within the window.
  const supervisor = new WorkerSupervisor(
    nodeLauncher({ env: { GENREP_WORKER_STALL_MS: String(STALL_MS) } }),
    {},
    { maxCrashes: 50, windowMs: 60_000, backoffMs: [0] },
  );
  beforeAll(async () => {
    await supervisor.start();
  });
  afterAll(async () => {
    await supervisor.stop();
  });

  const cases: [name: string, bytes: Buffer, reason: RegExp][] = [
    [
      'a header without Content-Length',
      Buffer.from('Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}'),
      /a header without Content-Length/,
    ],
    [
      'JSON without any header',
      Buffer.from('{"jsonrpc":"2.0","id":1,"method":"genrep/listModels"}'),
      /bytes that are not a header: "\{"/,
    ],
    [
      'Content-Length: abc',
      Buffer.from('Content-Length: abc\r\n\r\n{}'),
      /Content-Length "abc", expected a decimal byte count/,
    ],
    [
      'Content-Length: -5',
      Buffer.from('Content-Length: -5\r\n\r\n{}'),
      /Content-Length "-5", expected a decimal byte count/,
    ],
    ['Content-Length: 1e3', Buffer.from('Content-Length: 1e3\r\n\r\n{}'), /Content-Length "1e3"/],
    ['an LF-only header', Buffer.from('Content-Length: 2\n\n{}'), /a header line ending in a bare LF/],
    [
      'a header with a control character',
      Buffer.from('Content-Length: 2\u0000\r\n\r\n{}'),
      /a control character in a header line/,
    ],
    ['an endless header', Buffer.from(`X-Padding: ${'a'.repeat(10_000)}`), /a header section longer than 8192 bytes/],
    [
      'a Content-Length too short for its message',
      Buffer.concat([
        Buffer.from('Content-Length: 20\r\n\r\n{"jsonrpc":"2.0","id":"s1","method":"genrep/listModels","params":{}}'),
        frame('{"jsonrpc":"2.0","id":"s2","method":"genrep/listModels","params":{}}'),
      ]),
      /bytes that are not a header|a header line without a name/,
    ],
    [
      'a Content-Length longer than what arrives',
      Buffer.from(`Content-Length: 500\r\n\r\n${SHORT_REQUEST}`),
      new RegExp(
        `nothing arrived for ${STALL_MS} ms while waiting for ${500 - SHORT_REQUEST.length} more of the 500 bytes`,
      ),
    ],
    [
      'an absurd Content-Length over the size limit, followed by other messages',
      Buffer.concat([
        Buffer.from(
          'Content-Length: 900000000000000\r\n\r\n{"jsonrpc":"2.0","id":"x1","method":"genrep/listModels","params":{}}',
        ),
        frame('{"jsonrpc":"2.0","id":"x2","method":"genrep/listModels","params":{}}'),
      ]),
      /Content-Length 900000000000000 is longer than the message it frames/,
    ],
  ];

  it.each(cases)(
    '%s: logs why, exits with status 65, and the restarted worker answers',
    async (name, bytes, reason) => {
      const current = await waitFor(() => supervisor.current, 30_000, 'a running worker');
      const replies = tapReplies(current.child);
      const started = Date.now();
      current.child.stdin!.write(bytes);
      const exit = await Promise.race([
        current.exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`${name}: the worker did not exit`)), STALL_MS + 10_000),
        ),
      ]);
      const ms = Date.now() - started;
      expect(exit).toEqual({ code: WORKER_EXIT_CODES.BROKEN_STREAM, signal: null });
      const log = current.stderr.join('');
      const line = log.split('\n').find((l) => l.includes('broken message frame'));
      expect(line).toMatch(
        /^genrep worker: broken message frame: .*; exiting with status 65 so that a fresh worker is started$/,
      );
      expect(line).toMatch(reason);
      // Its last words on stdout: the same reason as a ParseError with id null, which vscode-jsonrpc logs.
      const said = replies.map((r) => (Array.isArray(r) ? undefined : r.error));
      expect(said.at(-1)).toEqual({ code: -32700, message: line!.replace(/^genrep worker: (.*); exiting .*$/, '$1') });

      const next = await waitFor(
        () => (supervisor.current?.pid !== current.pid ? supervisor.current : undefined),
        30_000,
        'the restarted worker',
      );
      expect(await next.request('genrep/listModels', {})).toHaveProperty('models');
      const codes = said.map((e) => e?.code).join(', ');
      record.push(
        `${name}: replies [${codes}], exit ${exit.code} after ${ms} ms, "${line!.replace(/^genrep worker: /, '')}"; restarted worker answered`,
      );
    },
  );
});

describe('a bug that escapes', () => {
  /** A preload (node --require) that fails in the worker process once main.ts is running. */
  function preload(name: string, code: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, `setTimeout(() => { ${code} }, 200);\n`);
    return file;
  }

  it.each([
    [
      'an uncaught exception',
      "throw new Error('boom from a timer')",
      /^genrep worker: uncaught exception: boom from a timer; exiting$/m,
    ],
    [
      'an unhandled rejection',
      "Promise.reject(new Error('nobody caught me'))",
      /^genrep worker: unhandled promise rejection: nobody caught me; exiting$/m,
    ],
  ])('ends the process on %s with status 70, the message and the stack on stderr', async (name, code, line) => {
    const file = preload(`${name.replace(/\W+/g, '-')}.cjs`, code);
    const child = spawn(process.execPath, ['--require', file, WORKER_MAIN], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
    const exit = await new Promise<ExitInfo>((resolve) =>
      child.once('close', (c, signal) => resolve({ code: c, signal })),
    );
    const log = stderr.join('');
    expect(exit).toEqual({ code: WORKER_EXIT_CODES.INTERNAL, signal: null });
    expect(log).toMatch(line);
    expect(log).toMatch(/^\s+at .*\.cjs:1/m);
    record.push(`${name}: exit ${exit.code}, "${log.split('\n')[0]}" + stack`);
  });
});
