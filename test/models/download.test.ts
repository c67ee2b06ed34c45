import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync, statSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadCheckpoint } from '../../worker/src/models/download';
import { main } from '../../worker/src/cli/main';
import { FIXTURES } from '../helpers/golden';
import { startDownloadServer, type DownloadServer } from './downloadServer';
import type { ChecksumRecords } from '../../worker/src/models/checksumRecords';

const payload = readFileSync(path.join(FIXTURES, 'golden-beats-tiny', 'checkpoint.pt'));
const payloadSha = createHash('sha256').update(payload).digest('hex');

describe('checkpoint download', () => {
  let server: DownloadServer;
  let dir: string;
  beforeEach(async () => {
    server = await startDownloadServer(payload, {
      // Transfer-Encoding: chunked, no Content-Length
      '/chunked.pt': (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.write(payload.subarray(0, 100_000));
        res.end(payload.subarray(100_000));
      },
      '/moved.pt': (_req, res) => res.writeHead(302, { Location: '/BEATs.pt' }).end(),
      '/stalls.pt': (_req, res) => {
        res.writeHead(200, { 'Content-Length': payload.length, 'Content-Type': 'application/octet-stream' });
        res.write(payload.subarray(0, 10_000));
      },
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-dl-'));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads, checks the size and records the sha256 of the first complete download', async () => {
    const progress: number[] = [];
    const result = await downloadCheckpoint({
      dir,
      file: 'BEATs.pt',
      url: server.url,
      onProgress: (r) => progress.push(r),
    });
    expect(result.status).toBe('downloaded');
    expect(result.recorded).toBe(true);
    expect(result.sha256).toBe(payloadSha);
    expect(readFileSync(path.join(dir, 'BEATs.pt')).equals(payload)).toBe(true);
    expect(progress.at(-1)).toBe(payload.length);
    const records = JSON.parse(readFileSync(path.join(dir, 'checksums.json'), 'utf8')) as ChecksumRecords;
    expect(records['BEATs.pt']?.sha256).toBe(payloadSha);
    expect(records['BEATs.pt']?.size).toBe(payload.length);
  });

  it('resumes an interrupted download with a Range request', async () => {
    server.cutAfter = 10_000;
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(
      /interrupted after 10000 of \d+ bytes.*run it again to resume/,
    );
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
    // Inside a tensor's storage: the file is still a well-formed checkpoint, only its bytes differ.
    server.body[Math.floor(payload.length / 2)]! ^= 0xff;
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(
      /differs from the one recorded/,
    );
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
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(
      /differs from the one recorded/,
    );
  });

  it('reports an HTTP failure with the status and without the query string', async () => {
    await expect(
      downloadCheckpoint({ dir, file: 'x.pt', url: server.url.replace('BEATs.pt', 'missing.pt?sig=SECRET') }),
    ).rejects.toThrow(/HTTP 404.*missing\.pt\?…/);
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

  const records = (): ChecksumRecords =>
    JSON.parse(readFileSync(path.join(dir, 'checksums.json'), 'utf8')) as ChecksumRecords;
  /** A record as GenRep wrote it before downloads were checked: the sha256 of a 1000-byte error page. */
  const pinnedGarbage = {
    sha256: 'e'.repeat(64),
    size: 1000,
    url: 'https://example.org/BEATs.pt?…',
    recordedAt: '2025-01-01T00:00:00.000Z',
  };

  it('accepts a checkpoint sent without a Content-Length once it checks out as a checkpoint', async () => {
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: `${server.origin}/chunked.pt` });
    expect(result).toMatchObject({ status: 'downloaded', recorded: true, sha256: payloadSha, size: payload.length });
  });

  it('follows a redirect and asks for the bytes unencoded', async () => {
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: `${server.origin}/moved.pt?sig=SECRET` });
    expect(result.sha256).toBe(payloadSha);
    expect(server.requests.map((r) => [r.path, r.acceptEncoding])).toEqual([
      ['/moved.pt', 'identity'],
      ['/BEATs.pt', 'identity'],
    ]);
    expect(records()['BEATs.pt']!.sha256).toBe(payloadSha);
    expect(readFileSync(path.join(dir, 'checksums.json'), 'utf8')).not.toContain('SECRET');
  });

  it('refuses a corrupt checkpoint before comparing checksums, keeping no bytes and no new record', async () => {
    await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    rmSync(path.join(dir, 'BEATs.pt'));
    const before = readFileSync(path.join(dir, 'checksums.json'), 'utf8');
    server.body = Buffer.from(payload);
    server.body[100]! ^= 0xff; // inside data.pkl: its CRC-32 fails
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(
      /refused: the server sent 467947 bytes that are not a PyTorch checkpoint \(zip entry checkpoint\/data\.pkl fails/,
    );
    expect(readdirSync(dir)).toEqual(['checksums.json']);
    expect(readFileSync(path.join(dir, 'checksums.json'), 'utf8')).toBe(before);
  });

  it('a published sha256 wins over a record that pinned a bad download', async () => {
    writeFileSync(path.join(dir, 'checksums.json'), JSON.stringify({ 'BEATs.pt': pinnedGarbage }));
    const published = { sha256: payloadSha, size: payload.length };
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url, published });
    expect(result).toMatchObject({ status: 'downloaded', recorded: true, sha256: payloadSha });
    expect(records()['BEATs.pt']).toMatchObject({ sha256: payloadSha, size: payload.length, checked: true });
  });

  it('refuses a download whose sha256 differs from the published one', async () => {
    const published = { sha256: 'a'.repeat(64) };
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url, published })).rejects.toThrow(
      /differs from the one published in models\/manifest\.json, a{64}; the new bytes were kept as \S+\.mismatch\./,
    );
    expect(readdirSync(dir)).toEqual(['BEATs.pt.part.mismatch']);
  });

  it('says that a record from before downloads were checked may pin an error page', async () => {
    writeFileSync(path.join(dir, 'checksums.json'), JSON.stringify({ 'BEATs.pt': pinnedGarbage }));
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(
      /differs from the one recorded at its first download, e{64} \(1000 bytes.*may pin an error page/,
    );
  });

  it('refuses a present file that is not a checkpoint even when it matches its record; the file stays', async () => {
    const page = Buffer.from('<html>sign in</html>');
    writeFileSync(path.join(dir, 'BEATs.pt'), page);
    const sha256 = createHash('sha256').update(page).digest('hex');
    const record = { ...pinnedGarbage, sha256, size: page.length };
    writeFileSync(path.join(dir, 'checksums.json'), JSON.stringify({ 'BEATs.pt': record }));
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url })).rejects.toThrow(
      new RegExp(
        'BEATs\\.pt: not a PyTorch checkpoint \\(it is not a zip archive.*\\); delete it and download it again; ' +
          'it matches the checksum recorded in \\S+checksums\\.json, so remove that entry too',
      ),
    );
    expect(readFileSync(path.join(dir, 'BEATs.pt')).equals(page)).toBe(true);
    expect(server.requests).toEqual([]);
  });

  it('discards a stale .part that does not start as a zip archive and downloads afresh', async () => {
    writeFileSync(path.join(dir, 'BEATs.pt.part'), '<html>partial login page');
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    expect(result.status).toBe('downloaded');
    expect(server.requests.at(-1)?.range).toBeUndefined();
    expect(readFileSync(path.join(dir, 'BEATs.pt')).equals(payload)).toBe(true);
  });

  it('refuses an address that is not http or https', async () => {
    await expect(downloadCheckpoint({ dir, file: 'BEATs.pt', url: 'file:///etc/passwd' })).rejects.toThrow(
      /download address file:\/\/\/etc\/passwd is a file: URL; expected http or https/,
    );
  });

  it('a cancelled download keeps its verified-looking .part and resumes from it', async () => {
    const controller = new AbortController();
    const progress: number[] = [];
    const pending = downloadCheckpoint({
      dir,
      file: 'BEATs.pt',
      url: `${server.origin}/stalls.pt`,
      signal: controller.signal,
      onProgress: (received) => {
        progress.push(received);
        if (received === 10_000) controller.abort();
      },
    });
    await expect(pending).rejects.toMatchObject({
      code: 'CANCELLED',
      message: 'download of BEATs.pt cancelled after 10000 of 467947 bytes; run it again to resume',
    });
    expect(statSync(path.join(dir, 'BEATs.pt.part')).size).toBe(10_000);
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    expect(result).toMatchObject({ status: 'resumed', sha256: payloadSha });
  });

  it('verifies a .part that already holds the whole file (416 to its Range) instead of refusing it', async () => {
    writeFileSync(path.join(dir, 'BEATs.pt.part'), payload);
    const result = await downloadCheckpoint({ dir, file: 'BEATs.pt', url: server.url });
    expect(result).toMatchObject({ status: 'resumed', recorded: true, sha256: payloadSha });
    expect(server.requests.at(-1)?.range).toBe(`bytes=${payload.length}-`);
    expect(readdirSync(dir).sort()).toEqual(['BEATs.pt', 'checksums.json']);
  });
});
