import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';

/**
 * One HTTP(S) GET for a large download, on node:http rather than fetch because fetch hides what a checkpoint
 * download must see: it silently unpacks gzip (so the byte count never matches Content-Length, and a gzip bomb fills
 * the disk), drops bytes a server sends beyond its Content-Length, and waits 300 s for headers and between chunks.
 * Here the body arrives exactly as sent, framing errors are reported, and every wait is bounded.
 */
export interface TransferLimits {
  /** Connecting and receiving the response headers, per request (each redirect gets its own). */
  headersTimeoutMs: number;
  /** Longest silence while the body flows. */
  idleTimeoutMs: number;
  /** The body must bring at least this many bytes in every `windowMs`, so a trickle cannot hold a download open. */
  minBytesPerWindow: number;
  windowMs: number;
  /** The whole transfer, redirects included; 0 means no limit (the throughput rule already bounds it). */
  totalTimeoutMs: number;
  maxRedirects: number;
}

export const DEFAULT_TRANSFER_LIMITS: TransferLimits = {
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  // 1 KiB/s averaged over a minute: far below any usable link, far above a deliberate trickle.
  minBytesPerWindow: 60 * 1024,
  windowMs: 60_000,
  totalTimeoutMs: 0,
  maxRedirects: 5,
};

export type FaultKind =
  | 'headers-timeout'
  | 'idle'
  | 'slow'
  | 'total'
  | 'cancelled'
  | 'network'
  | 'framing' // bytes beyond Content-Length, or a broken chunked encoding
  | 'redirect';

/** Why a transfer stopped, in words that complete "the download failed: …". */
export class TransferFault extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
  ) {
    super(message);
  }
}

export interface GetResponse {
  /** The address that answered, after redirects. */
  url: string;
  status: number;
  statusText: string;
  header(name: string): string | undefined;
  /** The body, chunk by chunk, as sent; throws a TransferFault when the transfer breaks or stalls. */
  body(): AsyncGenerator<Buffer>;
  /** Drops the connection without reading the body. */
  discard(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function bytesText(n: number): string {
  return n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}

function networkFault(err: unknown): TransferFault {
  if (err instanceof TransferFault) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code?.startsWith('HPE_')) {
    // After a complete body this is almost always extra bytes the parser took for the start of another response.
    return new TransferFault('framing', `HTTP framing error: ${e.message}`);
  }
  if (code === 'ECONNRESET' && e.message === 'aborted') {
    return new TransferFault('network', 'the connection closed early');
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TransferFault('network', code && !message.includes(code) ? `${message} (${code})` : message);
}

/** GET `url` with the given headers, following redirects, with every wait bounded by `limits`. */
export async function httpGet(
  url: string,
  headers: Record<string, string>,
  limits: TransferLimits,
  signal?: AbortSignal,
): Promise<GetResponse> {
  const started = Date.now();
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const remaining = limits.totalTimeoutMs > 0 ? limits.totalTimeoutMs - (Date.now() - started) : Infinity;
    const response = await requestOnce(current, headers, limits, remaining, signal);
    const location = response.header('location');
    if (!REDIRECTS.has(response.status) || location === undefined) return response;
    response.discard();
    if (redirects >= limits.maxRedirects) {
      throw new TransferFault('redirect', `more than ${limits.maxRedirects} redirects`);
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new TransferFault('redirect', `redirect to an invalid address ${JSON.stringify(location.slice(0, 200))}`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new TransferFault('redirect', `redirect to a ${next.protocol} address, expected http or https`);
    }
    current = next.href;
  }
}

function requestOnce(
  url: string,
  headers: Record<string, string>,
  limits: TransferLimits,
  totalLeftMs: number,
  signal: AbortSignal | undefined,
): Promise<GetResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new TransferFault('cancelled', 'cancelled'));
      return;
    }
    const get = url.startsWith('https:') ? https.get : http.get;
    let req: http.ClientRequest;
    try {
      // agent: false, so the connection is ours alone and closes with the response: extra bytes after the body
      // then show up as a framing error instead of poisoning a pooled connection.
      req = get(url, { headers, agent: false });
    } catch (err) {
      reject(networkFault(err));
      return;
    }
    let fault: TransferFault | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const stop = (f: TransferFault): void => {
      fault ??= f;
      req.destroy(fault);
    };
    const clearTimers = (): void => {
      for (const t of timers.splice(0)) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => stop(new TransferFault('cancelled', 'cancelled'));
    signal?.addEventListener('abort', onAbort);
    if (Number.isFinite(totalLeftMs)) {
      const message = `the transfer took longer than ${seconds(limits.totalTimeoutMs)}`;
      timers.push(setTimeout(() => stop(new TransferFault('total', message)), Math.max(0, totalLeftMs)));
    }
    const noHeaders = `no response from the server within ${seconds(limits.headersTimeoutMs)}`;
    const headersTimer = setTimeout(
      () => stop(new TransferFault('headers-timeout', noHeaders)),
      limits.headersTimeoutMs,
    );
    timers.push(headersTimer);
    const closed = new Promise<void>((done) => req.once('close', done));

    req.on('error', (err) => {
      fault ??= networkFault(err);
      if (!settled) {
        settled = true;
        clearTimers();
        reject(fault);
      }
    });

    req.once('response', (res: IncomingMessage) => {
      clearTimeout(headersTimer);
      settled = true;
      resolve({
        url,
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        header: (name) => {
          const value = res.headers[name.toLowerCase()];
          return Array.isArray(value) ? value.join(', ') : value;
        },
        discard: () => {
          clearTimers();
          req.destroy();
        },
        body: () => readBody(res),
      });
    });

    async function* readBody(res: IncomingMessage): AsyncGenerator<Buffer> {
      let inWindow = 0;
      let idle: NodeJS.Timeout | undefined;
      const armIdle = (): void => {
        if (idle) clearTimeout(idle);
        idle = setTimeout(
          () => stop(new TransferFault('idle', `the server sent nothing for ${seconds(limits.idleTimeoutMs)}`)),
          limits.idleTimeoutMs,
        );
      };
      armIdle();
      const window = setInterval(() => {
        if (inWindow === 0) {
          // A silent window is a stall, whichever of the two rules notices it first.
          stop(new TransferFault('idle', `the server sent nothing for ${seconds(limits.windowMs)}`));
        } else if (inWindow < limits.minBytesPerWindow) {
          stop(
            new TransferFault(
              'slow',
              `the server sent only ${bytesText(inWindow)} in ${seconds(limits.windowMs)} ` +
                `(less than the ${bytesText(limits.minBytesPerWindow)} required)`,
            ),
          );
        }
        inWindow = 0;
      }, limits.windowMs);
      try {
        try {
          for await (const chunk of res as AsyncIterable<Buffer>) {
            inWindow += chunk.length;
            armIdle();
            yield chunk;
          }
        } catch (err) {
          throw fault ?? networkFault(err);
        }
        if (!res.complete) throw fault ?? new TransferFault('network', 'the connection closed early');
        // A framing error (bytes beyond Content-Length) is reported on the request, at the latest when it closes.
        await closed;
        if (fault) throw fault;
      } finally {
        if (idle) clearTimeout(idle);
        clearInterval(window);
        clearTimers();
        req.destroy();
      }
    }
  });
}
