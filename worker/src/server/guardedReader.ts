import { AbstractMessageReader, Disposable, ErrorCodes, type DataCallback, type ResponseMessage } from 'vscode-jsonrpc';
import type { JsonScanner } from '../util/jsonScanner';
import { checkEnvelope, errorResponse, usableId, type RequestId } from './envelope';
import { DEFAULT_FRAME_LIMITS, FrameDecoder, type FrameEvent, type FrameLimits } from './framing';

/**
 * vscode-jsonrpc's MessageReader for the worker's stdin, in place of its StreamMessageReader: frames are decoded
 * strictly (framing.ts), bodies that are too big or too deeply nested are refused before JSON.parse sees them, and
 * whatever is not a well-formed JSON-RPC message is answered here (envelope.ts). vscode-jsonrpc only ever receives
 * messages it can dispatch, so every request gets exactly one reply, and a stream that can no longer be followed is
 * reported through `onBroken` instead of leaving the worker alive and deaf.
 */
export interface GuardedReaderOptions {
  limits?: FrameLimits;
  /** A frame that has started but receives nothing more for this long breaks the stream. */
  stallTimeoutMs?: number;
  /** Sends a response the reader makes itself (through the connection's writer, so frames never interleave). */
  reply(response: ResponseMessage | ResponseMessage[]): void;
  /** One line for the log: a refused message and why. */
  log(line: string): void;
  /** The stream cannot be followed any more; nothing after this is read. */
  onBroken(reason: string): void;
}

export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

export class GuardedMessageReader extends AbstractMessageReader {
  private stallTimer: NodeJS.Timeout | undefined;
  /** Set once the stream broke: what follows cannot be framed, so it is not read. */
  private broken = false;

  constructor(
    private readonly readable: NodeJS.ReadableStream,
    private readonly options: GuardedReaderOptions,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const limits = this.options.limits ?? DEFAULT_FRAME_LIMITS;
    const decoder = new FrameDecoder((event) => this.onFrame(event, limits, callback), limits);
    const onData = (data: Buffer | string): void => {
      if (this.broken) return;
      decoder.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      this.armStallTimer(decoder);
    };
    const onError = (error: unknown): void => this.fireError(error);
    let ended = false;
    const onEnd = (): void => {
      if (ended) return;
      ended = true;
      this.clearStallTimer();
      if (decoder.midFrame) {
        const waiting = decoder.describeWait();
        this.options.log(`the client closed the stream in the middle of a message (waiting for ${waiting})`);
      }
      this.fireClose();
    };
    this.readable.on('data', onData);
    this.readable.on('error', onError);
    this.readable.on('end', onEnd);
    this.readable.on('close', onEnd);
    return Disposable.create(() => {
      this.clearStallTimer();
      this.readable.off('data', onData);
      this.readable.off('error', onError);
      this.readable.off('end', onEnd);
      this.readable.off('close', onEnd);
    });
  }

  private onFrame(event: FrameEvent, limits: FrameLimits, callback: DataCallback): void {
    if (event.kind === 'broken') {
      this.breakStream(`broken message frame: ${event.reason}`);
      return;
    }
    if (event.kind === 'oversize') {
      const size = `${event.length} bytes (${mib(event.length)})`;
      const limit = `the worker's limit of ${mib(limits.maxMessageBytes)} per message`;
      this.refuse(event.scan, ErrorCodes.InvalidRequest, `message refused: ${size} is over ${limit}`);
      return;
    }
    const { body, scan } = event;
    if (scan.tooDeepAt >= 0) {
      const depth = `its JSON nests deeper than ${limits.maxDepth} levels (at byte ${scan.tooDeepAt})`;
      this.refuse(scan, ErrorCodes.InvalidRequest, `message refused: ${depth}`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8')) as unknown;
    } catch (err) {
      // Answered even when it looks like a notification: JSON-RPC answers every parse error.
      const problem = (err as Error).message;
      this.refuse(scan, ErrorCodes.ParseError, `parse error: the message is not valid JSON (${problem})`, true);
      return;
    }
    const verdict = checkEnvelope(value);
    if (verdict.kind === 'pass') {
      callback(verdict.message);
      return;
    }
    this.options.log(`refused a message: ${verdict.reason}`);
    if (verdict.kind === 'reply') this.options.reply(verdict.response);
  }

  /**
   * Refuses a message that was never parsed, addressed by the id the scanner saw: a request's client gets its
   * error, a notification (a method but no id) is only logged unless `always`, and a message whose id could not
   * be read is answered with id null.
   */
  private refuse(scan: JsonScanner, code: number, message: string, always = false): void {
    this.options.log(message);
    const id = scan.captured('id');
    const method = scan.captured('method');
    if (!always && id === undefined && method !== undefined && 'raw' in method) return;
    let requestId: RequestId = null;
    if (id !== undefined && 'raw' in id) {
      try {
        requestId = usableId(JSON.parse(id.raw)) ?? null;
      } catch {
        // not JSON after all: answered with id null
      }
    }
    this.options.reply(errorResponse(requestId, code, message));
  }

  private armStallTimer(decoder: FrameDecoder): void {
    this.clearStallTimer();
    if (!decoder.midFrame || this.broken) return;
    const ms = this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      const waiting = decoder.describeWait();
      this.breakStream(`broken message frame: nothing arrived for ${ms} ms while waiting for ${waiting}`);
    }, ms);
    this.stallTimer.unref();
  }

  private breakStream(reason: string): void {
    this.broken = true;
    this.clearStallTimer();
    this.options.onBroken(reason);
  }

  private clearStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}

function mib(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}
