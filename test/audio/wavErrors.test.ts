import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav, readWav, readWavInfo } from '../../worker/src/audio';
import { GenrepError } from '../../worker/src/errors';
import type { ErrorCode } from '../../worker/src/protocol/errors';
import { chunk, fmtChunk, type FmtSpec, pcmBytes, riff, wav } from './wavBytes';

const mono16: FmtSpec = { formatTag: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16 };
const someData = pcmBytes([1, 2, 3, 4, 5, 6, 7, 8], 16);

function withDataSize(bytes: Uint8Array, size: number): Uint8Array {
  const copy = bytes.slice();
  const at = Buffer.from(copy).indexOf('data') + 4;
  new DataView(copy.buffer).setUint32(at, size, true);
  return copy;
}

interface BadCase {
  name: string;
  bytes: Uint8Array;
  code: ErrorCode;
  message: RegExp;
}

const validWav = wav(mono16, someData);

const cases: BadCase[] = [
  {
    name: 'not a RIFF file',
    bytes: new TextEncoder().encode('this is plain text, not audio'),
    code: 'BAD_INPUT',
    message: /not a RIFF\/WAVE file \(starts with "this"/,
  },
  {
    name: 'RIFF but not WAVE',
    bytes: riff([chunk('avih', [0, 0])], { form: 'AVI ' }),
    code: 'BAD_INPUT',
    message: /RIFF form type "AVI "/,
  },
  {
    name: 'an MP3 with an ID3 tag',
    bytes: new Uint8Array([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    code: 'UNSUPPORTED',
    message: /looks like an MP3 file/,
  },
  {
    name: 'a FLAC file',
    bytes: new TextEncoder().encode('fLaC\0\0\0\x22 and more bytes'),
    code: 'UNSUPPORTED',
    message: /looks like a FLAC file/,
  },
  { name: 'an empty file', bytes: new Uint8Array(0), code: 'BAD_INPUT', message: /only 0 bytes/ },
  {
    name: 'a file shorter than the RIFF header',
    bytes: new TextEncoder().encode('RIFF\x04'),
    code: 'BAD_INPUT',
    message: /only 5 bytes/,
  },
  {
    name: 'a truncated data chunk',
    bytes: validWav.subarray(0, validWav.length - 5),
    code: 'CORRUPT',
    message: /data chunk is truncated: its header claims 16 bytes of audio but only 11 bytes follow/,
  },
  {
    name: 'a header claiming 4 GB of data',
    bytes: withDataSize(validWav, 0xffffffff),
    code: 'CORRUPT',
    message: /claims 4294967295 bytes of audio but only 16 bytes follow/,
  },
  {
    name: 'format code 6 (A-law)',
    bytes: wav({ formatTag: 6, channels: 1, sampleRate: 8000, bitsPerSample: 8 }, new Uint8Array(8)),
    code: 'UNSUPPORTED',
    message: /unsupported WAV format code 0x0006 \(A-law\)/,
  },
  {
    name: 'format code 0x55 (MP3 in WAV)',
    bytes: wav({ formatTag: 0x55, channels: 2, sampleRate: 44100, bitsPerSample: 0, blockAlign: 1 }, new Uint8Array(8)),
    code: 'UNSUPPORTED',
    message: /0x0055 \(MPEG Layer 3\)/,
  },
  {
    name: 'an unknown format code',
    bytes: wav({ formatTag: 0x1234, channels: 1, sampleRate: 16000, bitsPerSample: 16 }, someData),
    code: 'UNSUPPORTED',
    message: /format code 0x1234;/,
  },
  {
    name: 'an extensible ADPCM sub-format',
    bytes: wav({ ...mono16, formatTag: 0xfffe, extensible: { subFormat: 2 } }, someData),
    code: 'UNSUPPORTED',
    message: /0x0002 \(Microsoft ADPCM\) in the WAVE_FORMAT_EXTENSIBLE sub-format/,
  },
  {
    name: 'an extensible non-PCM GUID',
    bytes: wav(
      { ...mono16, formatTag: 0xfffe, extensible: { subFormat: 1, guidTail: new Array(14).fill(0x11) } },
      someData,
    ),
    code: 'UNSUPPORTED',
    message: /sub-format GUID 0100(11){14}/,
  },
  {
    name: 'an extensible fmt chunk that is too short',
    bytes: riff([chunk('fmt ', fmtChunk({ ...mono16, formatTag: 0xfffe }).body), chunk('data', someData)]),
    code: 'CORRUPT',
    message: /EXTENSIBLE fmt chunk is 16 bytes; expected 40/,
  },
  {
    name: 'more valid bits than the container',
    bytes: wav({ ...mono16, formatTag: 0xfffe, extensible: { subFormat: 1, validBits: 24 } }, someData),
    code: 'CORRUPT',
    message: /24 valid bits in a 16-bit container/,
  },
  {
    name: 'zero channels',
    bytes: wav({ ...mono16, channels: 0, blockAlign: 2 }, someData),
    code: 'BAD_INPUT',
    message: /zero channels/,
  },
  {
    name: 'a zero sample rate',
    bytes: wav({ ...mono16, sampleRate: 0 }, someData),
    code: 'BAD_INPUT',
    message: /sample rate of 0 Hz/,
  },
  {
    name: 'an absurd sample rate',
    bytes: wav({ ...mono16, sampleRate: 4_000_000 }, someData),
    code: 'UNSUPPORTED',
    message: /4000000 Hz is above the 768000 Hz/,
  },
  {
    name: '12-bit PCM',
    bytes: wav({ ...mono16, bitsPerSample: 12, blockAlign: 2 }, someData),
    code: 'UNSUPPORTED',
    message: /PCM sample size of 12 bits; expected 8, 16, 24, 32/,
  },
  {
    name: '16-bit float',
    bytes: wav({ ...mono16, formatTag: 3 }, someData),
    code: 'UNSUPPORTED',
    message: /float sample size of 16 bits; expected 32, 64/,
  },
  {
    name: 'block align inconsistent with channels × bits',
    bytes: wav({ ...mono16, channels: 2, blockAlign: 2 }, someData),
    code: 'CORRUPT',
    message: /block align is 2 bytes but 2 channel\(s\) × 16 bits needs 4/,
  },
  {
    name: 'an empty data chunk',
    bytes: wav(mono16, new Uint8Array(0)),
    code: 'BAD_INPUT',
    message: /data chunk is empty \(0 bytes/,
  },
  {
    name: 'a data chunk without one whole frame',
    bytes: wav({ ...mono16, channels: 2 }, new Uint8Array(3)),
    code: 'BAD_INPUT',
    message: /data chunk is empty \(3 bytes, no complete 4-byte frame\)/,
  },
  {
    name: 'a missing fmt chunk',
    bytes: riff([chunk('LIST', [1, 2, 3, 4])]),
    code: 'BAD_INPUT',
    message: /no fmt chunk found/,
  },
  {
    name: 'data before fmt',
    bytes: riff([chunk('data', someData), fmtChunk(mono16)]),
    code: 'BAD_INPUT',
    message: /data chunk at byte 12 comes before any fmt chunk/,
  },
  {
    name: 'a missing data chunk',
    bytes: riff([fmtChunk(mono16), chunk('LIST', [1, 2])]),
    code: 'BAD_INPUT',
    message: /no data chunk found$/,
  },
  {
    name: 'a chunk running past the end of the file',
    bytes: riff([fmtChunk(mono16), chunk('LIST', [1, 2], 1000)]),
    code: 'BAD_INPUT',
    message: /no data chunk found \(chunk "LIST" at byte 36 declares 1000 bytes, past the end of the file\)/,
  },
  {
    name: 'a fmt chunk under 16 bytes',
    bytes: riff([chunk('fmt ', fmtChunk(mono16).body.subarray(0, 14)), chunk('data', someData)]),
    code: 'CORRUPT',
    message: /fmt chunk is 14 bytes; expected at least 16/,
  },
  {
    name: 'a truncated fmt chunk',
    bytes: riff([fmtChunk(mono16)]).subarray(0, 30),
    code: 'CORRUPT',
    message: /fmt chunk is truncated: it declares 16 bytes but only 10 follow/,
  },
];

function expectGenrepError(run: () => unknown, file: string, code: ErrorCode, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GenrepError);
  const err = caught as GenrepError;
  expect(err.code).toBe(code);
  expect(err.data.file).toBe(file);
  expect(err.message.startsWith(`${file}: `)).toBe(true);
  expect(err.message).toMatch(message);
  expect(err.message).not.toContain('\n');
}

async function expectGenrepErrorAsync(
  run: () => Promise<unknown>,
  file: string,
  code: ErrorCode,
  message: RegExp,
): Promise<void> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expectGenrepError(
    () => {
      if (err instanceof Error) throw err;
      if (err !== undefined) throw new Error('the call rejected with something other than an Error');
    },
    file,
    code,
    message,
  );
}

describe('bad WAV input: in memory (decodeWav)', () => {
  it.each(cases)('$name', ({ bytes, code, message }) => {
    expectGenrepError(() => decodeWav(bytes, 'clip.wav'), 'clip.wav', code, message);
  });
});

describe('bad WAV input: on disk (readWavInfo and readWav)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-badwav-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(cases)('$name', async ({ name, bytes, code, message }) => {
    const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.wav`);
    writeFileSync(file, bytes);
    await expectGenrepErrorAsync(() => readWavInfo(file), file, code, message);
    await expectGenrepErrorAsync(() => readWav(file), file, code, message);
  });

  it('a missing file', async () => {
    const file = path.join(dir, 'nope.wav');
    await expectGenrepErrorAsync(() => readWavInfo(file), file, 'NOT_FOUND', /: no such file$/);
    await expectGenrepErrorAsync(() => readWav(file), file, 'NOT_FOUND', /: no such file$/);
  });

  it('a path through a regular file', async () => {
    const parent = path.join(dir, 'plain.txt');
    writeFileSync(parent, 'x');
    const file = path.join(parent, 'clip.wav');
    await expectGenrepErrorAsync(
      () => readWav(file),
      file,
      'NOT_FOUND',
      /no such file \(a parent in the path is not a directory\)/,
    );
  });

  it('a directory instead of a file', async () => {
    const file = path.join(dir, 'folder.wav');
    mkdirSync(file);
    await expectGenrepErrorAsync(() => readWavInfo(file), file, 'BAD_INPUT', /: is a directory, not a WAV file$/);
    await expectGenrepErrorAsync(() => readWav(file), file, 'BAD_INPUT', /: is a directory, not a WAV file$/);
  });

  it('a channel the file does not have', async () => {
    const file = path.join(dir, 'stereo.wav');
    writeFileSync(file, wav({ ...mono16, channels: 2 }, someData));
    await expectGenrepErrorAsync(
      () => readWav(file, { channel: 2 }),
      file,
      'BAD_INPUT',
      /channel 2 requested but the file has 2 channel\(s\) \(0\.\.1\)/,
    );
  });
});
