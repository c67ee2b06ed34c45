import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, statSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadCheckpoint } from '../../worker/src/models/download';
import { main } from '../../worker/src/cli/main';
import { FIXTURES } from '../helpers/golden';

const payload = readFileSync(path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt'));
const payloadSha = createHash('sha256').update(payload).digest('hex');

/** A local stand-in for the checkpoint host: honours Range, and can cut the connection to simulate a dropped download. */
interface Server {
  url: string;
  requests: { range: string | undefined }[];
  cutAfter: number | undefined;
  body: Buffer;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const state: Server = { url: '', requests: [], cutAfter: undefined, body: payload, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const range = req.headers.range;
    state.requests.push({ range });
    if (req.url !== '/BEATs.pt') {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = range ? /bytes=(\d+)-/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      res.writeHead(206, { 'Content-Length': state.body.length - start, 'Content-Range': `bytes ${start}-${state.body.length - 1}/${state.body.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': state.body.length });
    }
    const cut = state.cutAfter;
    if (cut !== undefined) {
      state.cutAfter = undefined;
      // Cut the connection only once the client has had time to read the bytes: fetch discards chunks still queued
      // in its stream when the connection errors (harmless for a real download, which resumes from what it wrote).
      res.write(state.body.subarray(start, start + cut), () => setTimeout(() => res.socket?.destroy(), 500));
      return;
    }
    res.end(state.body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/BEATs.pt`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

describe('checkpoint download', () => {
  let server: Server;
  let dir: string;
  beforeEach(async () => {
    server = await startServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-dl-'));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads, checks the size and records the sha256 of the first complete download', async () => {
    const progress: number[] = [];
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url, onProgress: (r) => progress.push(r) });
    expect(result.status).toBe('downloaded');
    expect(result.recorded).toBe(true);
    expect(result.sha256).toBe(payloadSha);
    expect(readFileSync(path.join(dir, 'BEATs.pt')).equals(payload)).toBe(true);
    expect(progress.at(-1)).toBe(payload.length);
    const records = JSON.parse(readFileSync(path.join(dir, 'checksums.json'), 'utf8'));
    expect(records['BEATs.pt'].sha256).toBe(payloadSha);
    expect(records['BEATs.pt'].size).toBe(payload.length);
  });

  it('resumes an interrupted download with a Range request', async () => {
    server.cutAfter = 10_000;
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(/interrupted after 10000 of \d+ bytes.*run it again to resume/);
    expect(existsSync(path.join(dir, 'BEATs.pt'))).toBe(false);
    expect(statSync(path.join(dir, 'BEATs.pt.part')).size).toBe(10_000);
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    expect(result.status).toBe('resumed');
    expect(server.requests.at(-1)?.range).toBe('bytes=10000-');
    expect(readFileSync(path.join(dir, 'BEATs.pt')).equals(payload)).toBe(true);
    expect(existsSync(path.join(dir, 'BEATs.pt.part'))).toBe(false);
  });

  it('refuses a later download whose bytes differ from the recorded checksum, keeping nothing in place', async () => {
    await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    rmSync(path.join(dir, 'BEATs.pt'));
    server.body = Buffer.from(payload);
    server.body[100] ^= 0xff;
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(/differs from the one recorded/);
    expect(existsSync(path.join(dir, 'BEATs.pt'))).toBe(false);
    expect(existsSync(path.join(dir, 'BEATs.pt.part.mismatch'))).toBe(true);
  });

  it('verifies an already present file instead of downloading it again', async () => {
    await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    const before = server.requests.length;
    const again = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    expect(again.status).toBe('present');
    expect(server.requests.length).toBe(before);
    writeFileSync(path.join(dir, 'BEATs.pt'), Buffer.from('tampered'));
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(/differs from the one recorded/);
  });

  it('reports an HTTP failure with the status and without the query string', async () => {
    await expect(downloadCheckpoint({ dir, file: 'x.pt', url: server.url.replace('BEATs.pt', 'missing.pt?sig=SECRET') })).rejects.toThrow(
      /HTTP 404.*missing\.pt\?…/,
    );
  });

  it('`genrep model download` fetches a known model from a mirror URL', async () => {
    const code = await main(['node', 'genrep', 'model', 'download', 'beats_ft1', '--dir', dir, '--url', server.url]);
    expect(code).toBe(0);
    const file = path.join(dir, 'BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt1.pt');
    expect(readFileSync(file).equals(payload)).toBe(true);
  });

  it('`genrep model download` names the known models when given an unknown one', async () => {
    const code = await main(['node', 'genrep', 'model', 'download', 'beats_ft9', '--dir', dir]);
    expect(code).toBe(1);
  });
});
