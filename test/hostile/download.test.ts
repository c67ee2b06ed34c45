import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadCheckpoint, type DownloadLimits } from '../../worker/src/models/download';
import { GenrepError } from '../../worker/src/errors';
import type { ChecksumRecords } from '../../worker/src/models/checksumRecords';
import { FIXTURES } from '../helpers/golden';
import { CLI_MAIN, isOneLineError, runCliProcess } from '../helpers/cliProcess';
import { float32Bytes, statePickle, torchZip, writeTorchZip } from '../checkpoint/torchZip';
import {
  AZURE_ERROR,
  gzipBomb,
  LOGIN_PAGE,
  startDownloadServer,
  streamNoise,
  type DownloadServer,
  type Route,
} from '../models/downloadServer';

/**
 * Hostile checkpoint hosts: each response below was once accepted as the model (and its sha256 pinned, so the real
 * file was then refused) or never ended. Each must now be refused quickly with one line naming the URL (SAS token
 * redacted), nothing recorded, no final file, no garbage `.part`, and a good download must succeed afterwards.
 */

const payload = readFileSync(path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt'));
const payloadSha = createHash('sha256').update(payload).digest('hex');
const FILE = 'BEATs.pt';
const MB60 = 60 * 2 ** 20;

/** Writes a raw HTTP response, bypassing Node's own framing (which would refuse to send a lying Content-Length). */
function raw(res: ServerResponse, head: string, body?: Buffer, end = true): Socket {
  const socket = res.socket!;
  socket.write(`HTTP/1.1 ${head}\r\n\r\n`);
  if (body) socket.write(body);
  if (end) socket.end();
  return socket;
}

let bomb: Buffer;
const OCTET = 'Content-Type: application/octet-stream';
const BINARY = { 'Content-Type': 'application/octet-stream' };

const routes: Record<string, Route> = {
  '/long.pt': (_req, res) => raw(res, `200 OK\r\n${OCTET}\r\nContent-Length: 1000`, payload),
  '/login.pt': (_req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(LOGIN_PAGE),
  '/login-octet.pt': (_req, res) => res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(LOGIN_PAGE),
  '/azure-error.pt': (_req, res) => res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(AZURE_ERROR),
  '/nolength-noise.pt': (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    streamNoise(res, MB60);
  },
  '/nolength-zipnoise.pt': (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    streamNoise(res, MB60, Buffer.from('PK\x03\x04', 'latin1'));
  },
  '/gzip.pt': (_req, res) => {
    const gz = gzipSync(payload);
    res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': gz.length, ...BINARY }).end(gz);
  },
  '/bomb.pt': (_req, res) => {
    res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': bomb.length, ...BINARY }).end(bomb);
  },
  '/too-big.pt': (_req, res) => {
    raw(res, `200 OK\r\nContent-Length: ${3 * 2 ** 30}\r\n${OCTET}`, payload.subarray(0, 4096), false);
  },
  '/stall-headers.pt': () => undefined, // accepts the request and never answers
  '/stall-body.pt': (_req, res) => {
    res.writeHead(200, { 'Content-Length': payload.length, 'Content-Type': 'application/octet-stream' });
    res.write(payload.subarray(0, 10_000)); // …and nothing more
  },
  '/trickle.pt': (_req, res) => {
    res.writeHead(200, { 'Content-Length': payload.length, 'Content-Type': 'application/octet-stream' });
    let at = 0;
    const send = (): void => {
      if (!res.destroyed) res.write(payload.subarray(at, ++at));
    };
    send();
    const timer = setInterval(send, 2000);
    res.on('close', () => clearInterval(timer));
  },
  '/empty.pt': (_req, res) => res.writeHead(200, { 'Content-Length': 0, ...BINARY }).end(),
  '/truncated.pt': (_req, res) => {
    res.writeHead(200, { 'Content-Length': 200_000, ...BINARY }).end(payload.subarray(0, 200_000));
  },
  '/plain-zip.pt': (_req, res) => {
    const zip = writeTorchZip([{ name: 'README.txt', data: Buffer.from('not a checkpoint\n') }]);
    res.writeHead(200, { 'Content-Length': zip.length, 'Content-Type': 'application/zip' }).end(zip);
  },
  '/missing-storage.pt': (_req, res) => {
    const pickle = statePickle([
      { key: 'w', storageKey: '0', numel: 4, size: [4] },
      { key: 'b', storageKey: '1', numel: 2, size: [2] },
    ]);
    const zip = torchZip(pickle, { '0': float32Bytes([1, 2, 3, 4]) });
    res.writeHead(200, { 'Content-Length': zip.length, 'Content-Type': 'application/octet-stream' }).end(zip);
  },
  '/redirect-loop.pt': (_req, res) => res.writeHead(302, { Location: '/redirect-loop.pt?sig=SECRET' }).end(),
};

interface HostileCase {
  name: string;
  route: string;
  message: RegExp;
  limits?: Partial<DownloadLimits>;
  published?: { size?: number };
  /** Upper bound on the time to failure, generous for a loaded 2-core machine. */
  withinMs: number;
  /** A stall after a genuine prefix keeps its `.part` of this many bytes for resuming. */
  keepsPart?: number;
}

const STALL = { headersTimeoutMs: 1000, idleTimeoutMs: 1000 };
const BROWSER = /Download it in a browser and place it at \S+\.pt$/;

const cases: HostileCase[] = [
  {
    name: 'body longer than its Content-Length',
    route: '/long.pt',
    withinMs: 3000,
    message: new RegExp(
      'refused: the server sent more bytes than its Content-Length of 1000 announced \\(HTTP framing error: .*\\); ' +
        'nothing was kept\\. Try again later',
    ),
  },
  {
    name: '200 HTML login page (text/html)',
    route: '/login.pt',
    withinMs: 2000,
    message: new RegExp(
      'refused: the server sent an HTML page \\(Content-Type: text/html; a login or error page\\?\\), ' +
        'not a checkpoint; nothing was kept\\.',
    ),
  },
  {
    name: 'HTML page labelled application/octet-stream',
    route: '/login-octet.pt',
    withinMs: 2000,
    message: /refused: the server sent an HTML page \(a login or error page\?\), not a checkpoint; nothing was kept\./,
  },
  {
    name: 'storage error XML with status 200',
    route: '/azure-error.pt',
    withinMs: 2000,
    message: /refused: the server sent an XML document \(error code AuthenticationFailed\), not a checkpoint/,
  },
  {
    name: '60 MB of noise, no Content-Length',
    route: '/nolength-noise.pt',
    withinMs: 3000,
    message: /refused: the server sent data that does not start as a zip archive, so not a checkpoint/,
  },
  {
    name: '60 MB zip-looking noise, no Content-Length, 4 MiB cap',
    route: '/nolength-zipnoise.pt',
    withinMs: 5000,
    limits: { maxBytes: 4 * 2 ** 20 },
    message: /refused: the server sent no Content-Length and more than 4194304 bytes \(the limit for a checkpoint\)/,
  },
  {
    name: '60 MB zip-looking noise, no Content-Length, published size as cap',
    route: '/nolength-zipnoise.pt',
    withinMs: 3000,
    published: { size: payload.length },
    message: /refused: the server sent no Content-Length and more than 467947 bytes/,
  },
  {
    name: '60 MB zip-looking noise, no Content-Length, default 2 GiB cap',
    route: '/nolength-zipnoise.pt',
    withinMs: 20_000,
    message: new RegExp(
      'refused: the server sent 62914560 bytes that are not a PyTorch checkpoint ' +
        '\\(it has no zip end-of-central-directory record: it is truncated, or not a zip archive\\)',
    ),
  },
  {
    name: 'gzip Content-Encoding',
    route: '/gzip.pt',
    withinMs: 2000,
    message: new RegExp(
      'refused: the server sent the file compressed \\(Content-Encoding: gzip\\) although GenRep asked for it ' +
        'unencoded; nothing was kept\\. Use another mirror',
    ),
  },
  { name: 'gzip bomb (200 MB of zeros)', route: '/bomb.pt', withinMs: 2000, message: /Content-Encoding: gzip/ },
  {
    name: 'announced 3 GiB',
    route: '/too-big.pt',
    withinMs: 2000,
    message: /refused: the server sent a 3221225472-byte file, more than the 2147483648-byte limit for a checkpoint/,
  },
  {
    name: 'stall before the headers',
    route: '/stall-headers.pt',
    withinMs: 4000,
    limits: STALL,
    message: new RegExp(
      '^download of BEATs\\.pt failed: no response from the server within 1 s ' +
        '\\(http://127\\.0\\.0\\.1:\\d+/stall-headers\\.pt\\?…\\); try again later',
    ),
  },
  {
    name: 'stall mid-body',
    route: '/stall-body.pt',
    withinMs: 4000,
    limits: STALL,
    keepsPart: 10_000,
    message: new RegExp(
      '^download of BEATs\\.pt interrupted after 10000 of 467947 bytes: the server sent nothing for 1 s \\(.*\\); ' +
        'run it again to resume from \\S+BEATs\\.pt\\.part$',
    ),
  },
  {
    name: 'trickle of 1 byte every 2 s',
    route: '/trickle.pt',
    withinMs: 8000,
    limits: { idleTimeoutMs: 5000, windowMs: 3000, minBytesPerWindow: 1024 },
    message: new RegExp(
      '^download of BEATs\\.pt interrupted after [12] of 467947 bytes: the server sent only [12] bytes in 3 s ' +
        '\\(less than the 1 KiB required\\) \\(.*\\); nothing was kept; try again later',
    ),
  },
  {
    name: 'empty 200',
    route: '/empty.pt',
    withinMs: 2000,
    message: /refused: the server sent an empty response, not a checkpoint/,
  },
  {
    name: 'truncated file sent as complete',
    route: '/truncated.pt',
    withinMs: 2000,
    message: /refused: the server sent 200000 bytes that are not a PyTorch checkpoint \(it has no zip end-of-central/,
  },
  {
    name: 'zip without data.pkl',
    route: '/plain-zip.pt',
    withinMs: 2000,
    message: new RegExp(
      'refused: the server sent \\d+ bytes that are not a PyTorch checkpoint ' +
        '\\(it is a zip archive without a <name>/data\\.pkl record',
    ),
  },
  {
    name: 'checkpoint missing a storage',
    route: '/missing-storage.pt',
    withinMs: 2000,
    message: /not a PyTorch checkpoint \(storage archive\/data\/1 is missing from the archive\)/,
  },
  {
    name: 'redirect loop',
    route: '/redirect-loop.pt',
    withinMs: 3000,
    message: /^download of BEATs\.pt failed: more than 5 redirects \(.*\/redirect-loop\.pt\?…\)/,
  },
];

describe('checkpoint download from a hostile host', () => {
  let server: DownloadServer;
  const times: string[] = [];
  beforeAll(async () => {
    bomb = await gzipBomb(200 * 2 ** 20);
    server = await startDownloadServer(payload, routes);
  });
  afterAll(async () => {
    await server.close();
    // The time to failure of each case, for the record (issue 9).
    console.log(`time to failure:\n${times.join('\n')}`);
  });

  it.each(cases)('$name: refused with one line, nothing pinned, then a good download succeeds', async (c) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-dl-hostile-'));
    try {
      const url = `${server.origin}${c.route}?sig=SECRET`;
      const started = Date.now();
      const options = {
        dir,
        file: FILE,
        url,
        ...(c.limits ? { limits: c.limits } : {}),
        ...(c.published ? { published: c.published } : {}),
      };
      const err = await downloadCheckpoint(options).then(
        () => undefined,
        (e: unknown) => e,
      );
      const ms = Date.now() - started;
      times.push(`  ${c.name}: ${ms} ms`);
      // SHOW_MESSAGES=1 prints each message beside its time, for reviewing the wording.
      if (process.env['SHOW_MESSAGES']) times.push(`    ${(err as Error).message}`);
      expect(err).toBeInstanceOf(GenrepError);
      const message = (err as GenrepError).message;
      expect(message).toMatch(c.message);
      expect(message).not.toContain('\n');
      expect(message).not.toContain('SECRET');
      expect(ms).toBeLessThan(c.withinMs);
      expect(existsSync(path.join(dir, 'checksums.json'))).toBe(false);
      expect(existsSync(path.join(dir, FILE))).toBe(false);
      if (c.keepsPart !== undefined) {
        expect(readFileSync(path.join(dir, `${FILE}.part`)).equals(payload.subarray(0, c.keepsPart))).toBe(true);
        expect(readdirSync(dir).sort()).toEqual([`${FILE}.part`]);
      } else {
        expect(readdirSync(dir)).toEqual([]);
      }
      // Identity was asked for on every request.
      expect(server.requests.at(-1)?.acceptEncoding).toBe('identity');

      // Nothing the hostile host sent was pinned: the real file from a good host is accepted and recorded.
      const good = await downloadCheckpoint({ dir, file: FILE, url: `${server.url}?sig=SECRET` });
      expect(good.status).toBe(c.keepsPart !== undefined ? 'resumed' : 'downloaded');
      expect(good.recorded).toBe(true);
      expect(good.sha256).toBe(payloadSha);
      expect(readFileSync(path.join(dir, FILE)).equals(payload)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual([FILE, 'checksums.json']);
      const records = JSON.parse(readFileSync(path.join(dir, 'checksums.json'), 'utf8')) as ChecksumRecords;
      expect(records[FILE]).toMatchObject({ sha256: payloadSha, size: payload.length, checked: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a page does not replace a good partial download', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-dl-hostile-'));
    try {
      const stalled = downloadCheckpoint({ dir, file: FILE, url: `${server.origin}/stall-body.pt`, limits: STALL });
      await expect(stalled).rejects.toThrow(/resume/);
      // A host that ignores Range and answers with a login page: the 10000 good bytes stay.
      const page = downloadCheckpoint({ dir, file: FILE, url: `${server.origin}/login-octet.pt` });
      await expect(page).rejects.toThrow(/an HTML page/);
      expect(readFileSync(path.join(dir, `${FILE}.part`)).equals(payload.subarray(0, 10_000))).toBe(true);
      expect(server.requests.at(-1)?.range).toBe('bytes=10000-');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(existsSync(CLI_MAIN))('`genrep model download` prints the refusal as one line and exits 1', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-dl-hostile-'));
    try {
      const url = `${server.origin}/login.pt?sig=SECRET`;
      const args = ['model', 'download', 'beats_ft1', '--dir', dir, '--url', url];
      const result = await runCliProcess(args, { timeoutMs: 30_000 });
      expect(result.code).toBe(1);
      expect(isOneLineError(result.stderr)).toBe(true);
      expect(result.stderr).toMatch(/^genrep: download of BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt1\.pt from /);
      expect(result.stderr).toMatch(/ from http:\/\/127\.0\.0\.1:\d+\/login\.pt\?… refused: /);
      expect(result.stderr).toContain('the server sent an HTML page');
      expect(result.stderr.trimEnd()).toMatch(BROWSER);
      expect(result.stderr).not.toContain('SECRET');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
