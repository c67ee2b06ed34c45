import { describe, expect, it } from 'vitest';
import { checkEnvelope } from '../../worker/src/server/envelope';
import { FrameDecoder, type FrameEvent, type FrameLimits } from '../../worker/src/server/framing';
import { JsonScanner, nestingTooDeep } from '../../worker/src/util/jsonScanner';

function frame(body: string): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`), bytes]);
}

function decode(input: Buffer, pieceSize = input.length, limits?: FrameLimits): FrameEvent[] {
  const events: FrameEvent[] = [];
  const decoder = new FrameDecoder((e) => events.push(e), limits);
  for (let at = 0; at < input.length; at += pieceSize) decoder.push(input.subarray(at, at + pieceSize));
  return events;
}

const describeEvent = (e: FrameEvent): string =>
  e.kind === 'message'
    ? e.body.toString('utf8')
    : e.kind === 'oversize'
      ? `oversize ${e.length}`
      : `broken: ${e.reason}`;

describe('FrameDecoder', () => {
  const stream = Buffer.concat([
    frame('{"jsonrpc":"2.0","id":1,"method":"a","params":{"s":"é\\"}]"}}'),
    Buffer.from('content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}'),
    frame('[1,2]'),
  ]);

  it('gives the same bodies however the bytes are split, headers read case-insensitively', () => {
    const whole = decode(stream).map(describeEvent);
    expect(whole).toEqual(['{"jsonrpc":"2.0","id":1,"method":"a","params":{"s":"é\\"}]"}}', '{}', '[1,2]']);
    for (const size of [1, 2, 3, 7, 64]) expect(decode(stream, size).map(describeEvent)).toEqual(whole);
  });

  it('skips a frame over the limit without keeping it, still finds its id, and stays in step', () => {
    const limits = { maxMessageBytes: 100, maxHeaderBytes: 8192, maxDepth: 64 };
    const big = `{"jsonrpc":"2.0","method":"m","params":{"text":"${'x\\"'.repeat(200)}"},"id":"late"}`;
    for (const size of [1, 5, 4096]) {
      const events = decode(Buffer.concat([frame(big), frame('{"n":2}')]), size, limits);
      expect(events.map(describeEvent)).toEqual([`oversize ${big.length}`, '{"n":2}']);
      const scan = (events[0] as Extract<FrameEvent, { kind: 'oversize' }>).scan;
      expect(scan.captured('id')).toEqual({ raw: '"late"' });
      expect(scan.captured('method')).toEqual({ raw: '"m"' });
    }
  });

  it.each([
    ['Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}', /two different Content-Length headers/],
    ['Content-Length: 2\r\nContent-Type: text/plain\r\n\r\n{}', /unsupported Content-Type "text\/plain"/],
    ['Content-Length : 2\r\n\r\n{}', /bytes that are not a header: "Content-Length "/],
    ['Content-Length: 2\r\r\n\r\n{}', /a stray CR/],
    ['Content-Length: 1234567890123456\r\n\r\n{}', /expected a decimal byte count/],
    ['NoColon\r\n\r\n', /a header line without ':'/],
  ])('breaks on %j', (input, reason) => {
    const events = decode(Buffer.from(input));
    expect(events).toHaveLength(1);
    expect(describeEvent(events[0]!)).toMatch(reason);
  });

  it('reads nothing after breaking', () => {
    expect(decode(Buffer.concat([Buffer.from('Content-Length: x\r\n\r\n'), frame('{}')])).map((e) => e.kind)).toEqual([
      'broken',
    ]);
  });
});

describe('JsonScanner', () => {
  function scan(text: string, options: { comments?: boolean; pieces?: number } = {}): JsonScanner {
    const scanner = new JsonScanner({ maxDepth: 3, capture: ['id', 'method'], comments: options.comments ?? false });
    const bytes = Buffer.from(text, 'utf8');
    const size = options.pieces ?? bytes.length;
    for (let at = 0; at < bytes.length; at += size) scanner.push(bytes.subarray(at, at + size));
    return scanner;
  }

  it('counts nesting outside strings only, across any split', () => {
    const text = '{"a":"[[[[{{{{\\"[[[","b":[[1]],"c":"\\\\"}';
    for (const pieces of [1, 2, 5, 100]) {
      const s = scan(text, { pieces });
      expect([s.maxDepthSeen, s.tooDeepAt, s.endedAt, s.trailingAt]).toEqual([3, -1, Buffer.byteLength(text), -1]);
    }
    expect(scan('[[[[0]]]]').tooDeepAt).toBe(3);
  });

  it('captures top-level members only, decoding escaped keys, and says when a value is a container or too long', () => {
    const s = scan('{"params":{"id":"inner"},"\\u0069d" : 12.5e1 ,"method":"x\\"y"}');
    expect(s.captured('id')).toEqual({ raw: '12.5e1' });
    expect(s.captured('method')).toEqual({ raw: '"x\\"y"' });
    expect(scan('{"id":{"a":1}}').captured('id')).toEqual({ container: true });
    expect(scan(`{"id":"${'a'.repeat(300)}"}`).captured('id')).toEqual({ overflow: true });
    expect(scan('{"id":null}').captured('id')).toEqual({ raw: 'null' });
    expect(scan('[{"id":1}]').captured('id')).toBeUndefined();
  });

  it('notices what follows the top-level value', () => {
    expect(scan('{"a":1}  \r\n').trailingAt).toBe(-1);
    expect(scan('{"a":1} x').trailingAt).toBe(8);
  });

  it('skips comments in JSONC mode, where brackets in them do not count', () => {
    const text = '{ // [[[[\n "a": /* {{{{ */ [1] }';
    expect(scan(text, { comments: true }).maxDepthSeen).toBe(2);
    expect(scan(text).maxDepthSeen).toBeGreaterThan(3);
  });

  it('gets through a long string of escapes in linear time', () => {
    const text = `{"id":1,"s":"${'\\n'.repeat(4_000_000)}"}`;
    const started = Date.now();
    const s = scan(text, { pieces: 65536 });
    expect(s.endedAt).toBe(text.length);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('gives the character offset of the bracket that goes too deep', () => {
    expect(nestingTooDeep('{"é": [[[1]]]}', 3)).toBe(8); // byte 9: é is two bytes in UTF-8
    expect(nestingTooDeep('{"a": [[1]]}', 3)).toBeUndefined();
  });
});

describe('checkEnvelope', () => {
  it('passes requests, notifications and responses, reading "params": null as no params', () => {
    expect(checkEnvelope({ jsonrpc: '2.0', id: 1, method: 'shutdown', params: null })).toEqual({
      kind: 'pass',
      message: { jsonrpc: '2.0', id: 1, method: 'shutdown' },
    });
    expect(checkEnvelope({ jsonrpc: '2.0', method: 'exit' }).kind).toBe('pass');
    expect(checkEnvelope({ jsonrpc: '2.0', id: 'x', result: null }).kind).toBe('pass');
  });

  it('only logs what nobody waits for: a malformed response, a batch of notifications', () => {
    expect(checkEnvelope({ jsonrpc: '2.0', id: {}, result: 1 })).toMatchObject({
      kind: 'drop',
      reason: expect.stringMatching(/"id" must be/) as unknown,
    });
    expect(checkEnvelope({ jsonrpc: '2.0', id: 1, result: 1, error: { code: 1, message: 'm' } }).kind).toBe('drop');
    expect(
      checkEnvelope([
        { jsonrpc: '2.0', method: 'a' },
        { jsonrpc: '2.0', method: 'b' },
      ]).kind,
    ).toBe('drop');
  });

  it('answers a nested batch element as a non-object', () => {
    expect(checkEnvelope([[{ jsonrpc: '2.0', id: 1, method: 'a' }]])).toMatchObject({
      kind: 'reply',
      response: [
        {
          id: null,
          error: { code: -32600, message: 'invalid request: a JSON-RPC message must be an object, got an array' },
        },
      ],
    });
  });
});
