import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip } from 'node:zlib';

/**
 * A local stand-in for a checkpoint host (127.0.0.1 only). `/BEATs.pt` serves the file well: it honours Range and can
 * cut the connection once to simulate a dropped download. Every other route misbehaves in one way a real host,
 * proxy or captive portal does, for the download's hostile-input tests.
 */
export interface DownloadServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The well-behaved route. */
  url: string;
  requests: { path: string; range: string | undefined; acceptEncoding: string | undefined }[];
  cutAfter: number | undefined;
  body: Buffer;
  close(): Promise<void>;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse, state: DownloadServer) => void;

/** A login page, as a captive portal or an expired link's redirect would serve it. */
export const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form>…</form></body></html>\n';

/** Azure Blob Storage's answer to an expired SAS token (sent here, wrongly, with status 200). */
export const AZURE_ERROR =
  '\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>' +
  '<Message>Server failed to authenticate the request.</Message></Error>';

/** 64 KiB of deterministic noise, reused for every chunk of a long garbage stream. */
const NOISE = (() => {
  const out = Buffer.alloc(64 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
})();

/** Streams `total` bytes (`first`, then noise) with back-pressure, never holding them; stops when the client goes. */
export function streamNoise(res: http.ServerResponse, total: number, first: Buffer = Buffer.alloc(0)): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < total && !res.destroyed) {
      let chunk = sent === 0 && first.length > 0 ? first : NOISE;
      chunk = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

/** A gzip stream that unpacks to `bytes` zeros, built in 1 MiB steps (a 200 MB bomb is ~200 KB). */
export async function gzipBomb(bytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const zeros = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= zeros.length) {
    if (!gzip.write(zeros.subarray(0, Math.min(zeros.length, left)))) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await done;
  return Buffer.concat(parts);
}

function serveGood(req: http.IncomingMessage, res: http.ServerResponse, state: DownloadServer): void {
  const range = req.headers.range;
  let start = 0;
  const m = range ? /bytes=(\d+)-/.exec(range) : null;
  if (m) {
    start = Number(m[1]);
    if (start >= state.body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${state.body.length}` }).end();
      return;
    }
    res.writeHead(206, {
      'Content-Length': state.body.length - start,
      'Content-Range': `bytes ${start}-${state.body.length - 1}/${state.body.length}`,
      'Content-Type': 'application/octet-stream',
    });
  } else {
    res.writeHead(200, { 'Content-Length': state.body.length, 'Content-Type': 'application/octet-stream' });
  }
  const cut = state.cutAfter;
  if (cut !== undefined) {
    state.cutAfter = undefined;
    // Cut the connection only once the client has had time to read the bytes: a client discards chunks still
    // queued when the connection errors (harmless for a real download, which resumes from what it wrote).
    res.write(state.body.subarray(start, start + cut), () => setTimeout(() => res.socket?.destroy(), 500));
    return;
  }
  res.end(state.body.subarray(start));
}

export async function startDownloadServer(
  payload: Buffer,
  routes: Record<string, Route> = {},
): Promise<DownloadServer> {
  const state: DownloadServer = {
    origin: '',
    url: '',
    requests: [],
    cutAfter: undefined,
    body: payload,
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0]!;
    state.requests.push({ path: pathname, range: req.headers.range, acceptEncoding: req.headers['accept-encoding'] });
    const route = pathname === '/BEATs.pt' ? serveGood : routes[pathname];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    route(req, res, state);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.origin = `http://127.0.0.1:${port}`;
  state.url = `${state.origin}/BEATs.pt`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Stalling routes hold their connections open; the test is over, so drop them.
      server.closeAllConnections();
    });
  return state;
}
