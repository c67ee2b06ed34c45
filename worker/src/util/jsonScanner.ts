/**
 * A single pass over JSON bytes that learns, without building anything, what must be known before a parser or a
 * validator sees them: how deep the nesting goes (JSON.parse copes with 10⁷ levels but takes seconds and gigabytes,
 * and every recursive consumer after it — jsonc-parser, ajv, our own walkers — overflows the stack long before),
 * where a top-level object or array ends (so a frame that carries more than one value is noticed), and the raw text
 * of chosen top-level members (a JSON-RPC message's `id`, to answer a message that is never parsed).
 *
 * Bytes may arrive in any number of chunks; memory stays constant (captured members are capped), so a 200 MiB
 * message can be scanned while it is being thrown away. String contents are skipped with Buffer.indexOf, not byte
 * by byte. The scanner does not validate: malformed JSON gives some answer, and the parser that runs afterwards
 * reports the syntax error.
 */
/**
 * Deeper than anything GenRep reads or writes (a run config nests 3 levels, a protocol message 5), and far below
 * where a recursive parser or validator runs out of stack.
 */
export const MAX_JSON_DEPTH = 64;

export interface JsonScanOptions {
  /** Nesting deeper than this is recorded in `tooDeepAt` (scanning goes on, counting costs nothing). */
  maxDepth: number;
  /** Skip // and /* *\/ comments outside strings, as JSONC allows (run configs). */
  comments?: boolean;
  /** Top-level object members whose raw value text to keep (scalars only, at most MAX_CAPTURE bytes). */
  capture?: readonly string[];
}

/** What was seen of a captured member: its raw JSON text, or that it was a container or too long to keep. */
export type CapturedMember = { raw: string } | { container: true } | { overflow: true };

const MAX_CAPTURE = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const STAR = 0x2a;
const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

type Comment = 'none' | 'slash' | 'line' | 'block' | 'blockStar';
/** Where we are among the top-level object's members. */
type Member = 'key' | 'colon' | 'value' | 'literal' | 'after';

export class JsonScanner {
  /** The current nesting depth. */
  depth = 0;
  /** The deepest nesting seen. */
  maxDepthSeen = 0;
  /** Byte offset of the bracket that first went past maxDepth, or -1. */
  tooDeepAt = -1;
  /** Byte offset just past the top-level object or array once it closed, or -1. */
  endedAt = -1;
  /** Byte offset of the first thing other than white space (or a comment) after the top-level value closed, or -1. */
  trailingAt = -1;
  /** Bytes scanned so far. */
  offset = 0;

  /** Next quote / backslash in the current chunk at or after the scan position: -1 none left, -2 not searched yet. */
  private quoteAt = -2;
  private backslashAt = -2;
  private inString = false;
  private escaped = false;
  private comment: Comment = 'none';
  private started = false;
  private topIsObject = false;
  private member: Member = 'key';
  /** The key of the member being read (decoded), when it is one we capture. */
  private wantedKey: string | undefined;
  /** Raw bytes being captured (a key, or a wanted member's value); undefined when not capturing. */
  private text: number[] | undefined;
  private textOverflow = false;
  private textIsKey = false;
  private readonly members = new Map<string, CapturedMember>();
  private readonly wanted: ReadonlySet<string>;

  constructor(private readonly options: JsonScanOptions) {
    this.wanted = new Set(options.capture ?? []);
  }

  /** A top-level member captured so far (the last one, for a key that repeats, as JSON.parse keeps the last). */
  captured(key: string): CapturedMember | undefined {
    return this.members.get(key);
  }

  push(bytes: Uint8Array): void {
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const n = chunk.length;
    this.quoteAt = -2;
    this.backslashAt = -2;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        i = this.scanString(chunk, i);
        continue;
      }
      const b = chunk[i]!;
      if (this.comment !== 'none') {
        this.scanComment(b);
        i++;
        continue;
      }
      if (this.options.comments && b === SLASH) {
        this.endLiteral();
        this.comment = 'slash';
        i++;
        continue;
      }
      if (isSpace(b)) {
        this.endLiteral();
        i++;
        continue;
      }
      const at = this.offset + i;
      if (this.endedAt >= 0 && this.trailingAt < 0) this.trailingAt = at;
      if (!this.started) {
        this.started = true;
        this.topIsObject = b === OPEN_BRACE;
      }
      if (b === QUOTE) {
        this.openString();
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (this.depth === 1 && this.topIsObject && this.member === 'value') {
          if (this.wantedKey !== undefined) this.members.set(this.wantedKey, { container: true });
          this.member = 'after';
        }
        this.depth++;
        if (this.depth > this.maxDepthSeen) this.maxDepthSeen = this.depth;
        if (this.depth > this.options.maxDepth && this.tooDeepAt < 0) this.tooDeepAt = at;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        if (this.depth === 1) this.endLiteral();
        if (this.depth > 0) {
          this.depth--;
          if (this.depth === 0 && this.endedAt < 0) this.endedAt = at + 1;
        }
      } else if (this.depth === 1 && this.topIsObject) {
        this.topLevelPunctuation(b);
      }
      i++;
    }
    this.offset += n;
  }

  /** Inside a string: jump to the next quote or backslash; returns where to continue. */
  private scanString(chunk: Buffer, from: number): number {
    let i = from;
    if (this.escaped) {
      this.keep(chunk, i, i + 1);
      this.escaped = false;
      return i + 1;
    }
    // Cached per chunk: searching afresh after every backslash would make a long string of escapes quadratic.
    if (this.quoteAt !== -1 && this.quoteAt < i) this.quoteAt = chunk.indexOf(QUOTE, i);
    if (this.backslashAt !== -1 && this.backslashAt < i) this.backslashAt = chunk.indexOf(BACKSLASH, i);
    const quote = this.quoteAt;
    const backslash = this.backslashAt;
    const stop = quote < 0 ? backslash : backslash < 0 ? quote : Math.min(quote, backslash);
    if (stop < 0) {
      this.keep(chunk, i, chunk.length);
      return chunk.length;
    }
    this.keep(chunk, i, stop + 1);
    i = stop + 1;
    if (chunk[stop] === BACKSLASH) this.escaped = true;
    else this.closeString();
    return i;
  }

  private scanComment(b: number): void {
    switch (this.comment) {
      case 'slash':
        this.comment = b === SLASH ? 'line' : b === STAR ? 'block' : 'none';
        break;
      case 'line':
        if (b === NEWLINE) this.comment = 'none';
        break;
      case 'block':
        if (b === STAR) this.comment = 'blockStar';
        break;
      case 'blockStar':
        this.comment = b === SLASH ? 'none' : b === STAR ? 'blockStar' : 'block';
        break;
      case 'none':
        break;
    }
  }

  private openString(): void {
    this.inString = true;
    if (this.depth !== 1 || !this.topIsObject) return;
    if (this.member === 'key') this.startText(true);
    else if (this.member === 'value') {
      if (this.wantedKey !== undefined) this.startText(false);
      this.member = 'after';
    }
    this.text?.push(QUOTE);
  }

  private closeString(): void {
    this.inString = false;
    if (this.text === undefined) return;
    if (this.textIsKey) {
      const key = this.textOverflow ? undefined : decode(this.text);
      this.wantedKey = typeof key === 'string' && this.wanted.has(key) ? key : undefined;
      this.member = 'colon';
      this.text = undefined;
    } else {
      this.finishText();
    }
  }

  /** `:` and `,` between the top-level members, and the first byte of a literal value (number, true, null). */
  private topLevelPunctuation(b: number): void {
    if (b === COLON) {
      if (this.member === 'colon') this.member = 'value';
    } else if (b === COMMA) {
      this.endLiteral();
      this.member = 'key';
      this.wantedKey = undefined;
    } else if (this.member === 'value') {
      this.member = 'literal';
      if (this.wantedKey !== undefined) this.startText(false);
      this.text?.push(b);
    } else if (this.member === 'literal') {
      this.text?.push(b);
      if (this.text && this.text.length > MAX_CAPTURE) this.textOverflow = true;
    }
  }

  private endLiteral(): void {
    if (this.member !== 'literal') return;
    this.member = 'after';
    this.finishText();
  }

  private startText(isKey: boolean): void {
    this.text = [];
    this.textOverflow = false;
    this.textIsKey = isKey;
  }

  private keep(chunk: Uint8Array, from: number, to: number): void {
    if (this.text === undefined || this.textOverflow) return;
    if (this.text.length + (to - from) > MAX_CAPTURE) {
      this.textOverflow = true;
      return;
    }
    for (let j = from; j < to; j++) this.text.push(chunk[j]!);
  }

  private finishText(): void {
    if (this.text === undefined || this.wantedKey === undefined) {
      this.text = undefined;
      return;
    }
    const member = this.textOverflow ? { overflow: true as const } : { raw: Buffer.from(this.text).toString('utf8') };
    this.members.set(this.wantedKey, member);
    this.text = undefined;
  }
}

function decode(bytes: number[]): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Where a JSON(C) text nests deeper than `maxDepth`: the character offset of the bracket that goes too deep, or
 * undefined when it stays within. For run configs and other JSON read from files before they are parsed.
 */
export function nestingTooDeep(
  text: string,
  maxDepth: number,
  options: { comments?: boolean } = {},
): number | undefined {
  const bytes = Buffer.from(text, 'utf8');
  const scanner = new JsonScanner({ maxDepth, ...options });
  scanner.push(bytes);
  if (scanner.tooDeepAt < 0) return undefined;
  return bytes.subarray(0, scanner.tooDeepAt).toString('utf8').length;
}
