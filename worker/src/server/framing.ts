import { JsonScanner, MAX_JSON_DEPTH } from '../util/jsonScanner';

/**
 * The LSP base protocol's framing — `Content-Length: N\r\n` (other headers allowed), an empty line, N bytes of
 * JSON — decoded strictly, since vscode-jsonrpc's own reader reports a bad header and then goes on reading the body
 * as the next header, never answering again. A header that is not exactly that (no Content-Length, a value that is
 * not a decimal integer, lines ending in a bare LF, bytes that cannot be a header at all) leaves no way to find where
 * the next message starts, so it is `broken` and the caller ends the process for a clean restart. A frame longer
 * than the limit is `oversize`: its bytes are thrown away as they arrive (never buffered), scanned only for the
 * request's id so the refusal can be addressed to it, and the stream stays in step.
 */
export interface FrameLimits {
  /** Larger messages are refused without being buffered. */
  maxMessageBytes: number;
  /** A header section is a line or two; anything longer is not one. */
  maxHeaderBytes: number;
  /** Passed to each body's JsonScanner. */
  maxDepth: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxMessageBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 8192,
  maxDepth: MAX_JSON_DEPTH,
};

export type FrameEvent =
  /** A complete body within the limit, and what the scanner saw of it. */
  | { kind: 'message'; body: Buffer; scan: JsonScanner }
  /** A body over the limit, now discarded. */
  | { kind: 'oversize'; length: number; scan: JsonScanner }
  /** The stream cannot be followed any more. */
  | { kind: 'broken'; reason: string };

/** Top-level members kept while scanning a body, for replies to messages that are not parsed. */
export const CAPTURED_MEMBERS = ['id', 'method'] as const;

const CR = 0x0d;
const LF = 0x0a;
/** RFC 9110 token characters: what a header name is made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*$/;
/** LSP's default type, and plain JSON; UTF-8 only, the one charset vscode-jsonrpc's Node reader decodes. */
const CONTENT_TYPE = /^application\/(vscode-jsonrpc|json)(;\s*charset=utf-?8)?$/i;

type State =
  | { kind: 'header'; line: string; bytes: number; contentLength: string | undefined }
  | { kind: 'body'; length: number; received: number; chunks: Buffer[]; scan: JsonScanner }
  | { kind: 'skip'; length: number; received: number; scan: JsonScanner }
  | { kind: 'broken' };

export class FrameDecoder {
  private state: State = FrameDecoder.header();

  constructor(
    private readonly emit: (event: FrameEvent) => void,
    private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS,
  ) {}

  /** True while part of a frame has arrived and the rest has not. */
  get midFrame(): boolean {
    const s = this.state;
    return s.kind === 'body' || s.kind === 'skip' || (s.kind === 'header' && s.bytes > 0);
  }

  get isBroken(): boolean {
    return this.state.kind === 'broken';
  }

  /** Bytes the current frame still needs, for the log when the stream stalls. */
  describeWait(): string {
    const s = this.state;
    if (s.kind === 'header') return `a header (${s.bytes} bytes of it so far)`;
    if (s.kind === 'body' || s.kind === 'skip') {
      return `${s.length - s.received} more of the ${s.length} bytes its Content-Length declared`;
    }
    return 'nothing';
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state.kind !== 'broken') {
      const s = this.state;
      if (s.kind === 'header') at = this.readHeader(s, chunk, at);
      else at = this.readBody(s, chunk, at);
    }
  }

  private static header(): State {
    return { kind: 'header', line: '', bytes: 0, contentLength: undefined };
  }

  private readHeader(s: Extract<State, { kind: 'header' }>, chunk: Buffer, from: number): number {
    // i < chunk.length.
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i]!;
      s.bytes++;
      if (s.bytes > this.limits.maxHeaderBytes) {
        return this.fail(`a header section longer than ${this.limits.maxHeaderBytes} bytes`);
      }
      if (b !== LF) {
        s.line += String.fromCharCode(b);
        // Fail at the first byte that cannot belong to a header, not when a line ending that may never come arrives.
        const colon = s.line.indexOf(':');
        if (colon < 0 && b !== CR && !TOKEN.test(String.fromCharCode(b))) {
          return this.fail(`bytes that are not a header: ${quote(s.line)}`);
        }
        if (colon === 0) return this.fail(`a header line without a name: ${quote(s.line)}`);
        if (b < 0x20 && b !== CR && b !== 0x09) {
          return this.fail(`a control character in a header line: ${quote(s.line)}`);
        }
        if (b >= 0x7f) return this.fail(`a non-ASCII byte in a header line: ${quote(s.line)}`);
        continue;
      }
      if (!s.line.endsWith('\r')) {
        return this.fail(`a header line ending in a bare LF (LSP headers end in CRLF): ${quote(s.line)}`);
      }
      const line = s.line.slice(0, -1);
      s.line = '';
      if (line.includes('\r')) return this.fail(`a stray CR in a header line: ${quote(line)}`);
      if (line === '') return this.startBody(s, i + 1);
      const colon = line.indexOf(':');
      if (colon < 0) return this.fail(`a header line without ':': ${quote(line)}`);
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (s.contentLength !== undefined && s.contentLength !== value) {
          return this.fail(`two different Content-Length headers (${s.contentLength}, ${value})`);
        }
        s.contentLength = value;
      } else if (name === 'content-type' && !CONTENT_TYPE.test(value)) {
        const expected = 'application/vscode-jsonrpc; charset=utf-8';
        return this.fail(`an unsupported Content-Type ${quote(value)} (expected ${expected})`);
      }
    }
    return chunk.length;
  }

  private startBody(s: Extract<State, { kind: 'header' }>, next: number): number {
    if (s.contentLength === undefined) return this.fail('a header without Content-Length');
    if (!/^\d{1,15}$/.test(s.contentLength)) {
      return this.fail(`Content-Length ${quote(s.contentLength)}, expected a decimal byte count (0 or more)`);
    }
    const length = Number(s.contentLength);
    const scan = new JsonScanner({ maxDepth: this.limits.maxDepth, capture: CAPTURED_MEMBERS });
    this.state =
      length > this.limits.maxMessageBytes
        ? { kind: 'skip', length, received: 0, scan }
        : { kind: 'body', length, received: 0, chunks: [], scan };
    if (length === 0) this.finishBody();
    return next;
  }

  private readBody(s: Extract<State, { kind: 'body' | 'skip' }>, chunk: Buffer, from: number): number {
    const take = Math.min(chunk.length - from, s.length - s.received);
    const piece = chunk.subarray(from, from + take);
    s.received += take;
    s.scan.push(piece);
    if (s.kind === 'body') {
      s.chunks.push(piece);
    } else if (s.scan.trailingAt >= 0) {
      // An over-limit frame whose JSON value closed early and something else followed: the declared length was a
      // lie, and skipping on would swallow the messages after it.
      const after = `more data after its end at byte ${s.scan.endedAt}`;
      return this.fail(`Content-Length ${s.length} is longer than the message it frames (${after})`);
    }
    if (s.received === s.length) this.finishBody();
    return from + take;
  }

  private finishBody(): void {
    const s = this.state;
    this.state = FrameDecoder.header();
    if (s.kind === 'body') {
      const [only] = s.chunks;
      const body = s.chunks.length === 1 && only ? only : Buffer.concat(s.chunks);
      this.emit({ kind: 'message', body, scan: s.scan });
    } else if (s.kind === 'skip') {
      this.emit({ kind: 'oversize', length: s.length, scan: s.scan });
    }
  }

  /** Returns where reading would go on: nowhere, the rest of the input is never read. */
  private fail(reason: string): number {
    this.state = { kind: 'broken' };
    this.emit({ kind: 'broken', reason });
    return Infinity;
  }
}

/** A header excerpt for a log line: JSON-quoted (so control characters are visible) and cut short. */
function quote(text: string): string {
  const cut = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(cut);
}
