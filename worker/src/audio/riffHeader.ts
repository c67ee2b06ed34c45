import { fileError } from '../errors';
import type { WavHeader } from './wavTypes';

/**
 * RIFF/WAVE header parsing, written as a generator that asks for byte ranges instead of holding the file. The same
 * parser then serves `decodeWav` (bytes already in memory, answered synchronously) and `readWavInfo` (a file handle,
 * answered with async positional reads, so a 2 GB file costs a few small reads). Chunk bodies other than fmt are
 * never read: they are skipped by their declared size, and at most MAX_HEADER_CHUNKS chunks are walked.
 */

/** A request for `length` bytes at `offset`; the driver answers with fewer only at the end of the file. */
export interface ByteRangeRequest {
  offset: number;
  length: number;
}

export type HeaderParser = Generator<ByteRangeRequest, WavHeader, Uint8Array>;

const FORMAT_PCM = 0x0001;
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Above this, resampling to 16 kHz would need filters thousands of taps long; no real recording needs more. */
export const MAX_SAMPLE_RATE = 768_000;
/**
 * Below this a header is damaged, not a recording: a 12 KB file that says 1 Hz would be resampled to 600 000
 * samples at 16 kHz (16× is the most any accepted file is stretched). Telephone audio, the slowest real rate, is
 * 8 kHz.
 */
export const MIN_SAMPLE_RATE = 1000;
/**
 * Chunks walked before the data chunk. Real files have a handful (fmt, LIST, fact, bext, JUNK, cue, …); a file of
 * millions of empty chunks is damaged or hostile, and walking it would cost a read per chunk.
 */
export const MAX_HEADER_CHUNKS = 1000;

/** Bytes 2..15 of KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT ({0000000X-0000-0010-8000-00AA00389B71}). */
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** Names for the format codes people actually meet, so "unsupported" says what the file is. */
const FORMAT_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'mu-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MPEG Layer 3',
  0x00ff: 'AAC',
  0x1610: 'HE-AAC',
  0xf1ac: 'FLAC',
};

/** Magic numbers of other audio containers, so a mislabelled file gets a useful message. */
const OTHER_CONTAINERS: Array<[string, string]> = [
  ['RIFX', 'a big-endian RIFX file'],
  ['RF64', 'an RF64 (64-bit RIFF) file'],
  ['fLaC', 'a FLAC file'],
  ['OggS', 'an Ogg file'],
  ['ID3', 'an MP3 file'],
  ['FORM', 'an AIFF file'],
  ['caff', 'a Core Audio (CAF) file'],
];

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (const b of bytes.subarray(start, start + length)) s += String.fromCharCode(b);
  return s;
}

/** A four-character code as it would be typed, with unprintable bytes escaped. */
function showFourCC(bytes: Uint8Array, start: number): string {
  let s = '';
  for (const b of bytes.subarray(start, start + 4)) {
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"`;
}

/** Little-endian fields. The parser reads only bytes it asked for, so a field past the end is a bug (RangeError). */
function u16(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(at, true);
}

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}

function hex4(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

function notRiffWave(file: string, head: Uint8Array): never {
  for (const [magic, what] of OTHER_CONTAINERS) {
    if (ascii(head, 0, magic.length) === magic) {
      throw fileError(
        file,
        `not a RIFF/WAVE file: it looks like ${what}; convert it to WAV (PCM or float)`,
        'UNSUPPORTED',
        {
          expected: 'a RIFF/WAVE file',
        },
      );
    }
  }
  const [b0, b1] = head;
  if (b0 === 0xff && b1 !== undefined && (b1 & 0xe0) === 0xe0) {
    throw fileError(
      file,
      'not a RIFF/WAVE file: it looks like an MPEG audio (MP3) stream; convert it to WAV',
      'UNSUPPORTED',
      {
        expected: 'a RIFF/WAVE file',
      },
    );
  }
  const form =
    ascii(head, 0, 4) === 'RIFF' ? `RIFF form type ${showFourCC(head, 8)}` : `starts with ${showFourCC(head, 0)}`;
  throw fileError(file, `not a RIFF/WAVE file (${form}; expected "RIFF" then "WAVE")`, 'BAD_INPUT', {
    expected: 'a RIFF/WAVE file',
  });
}

/** What the fmt chunk says: the header's sample format and frame layout. */
type FmtFields = Omit<WavHeader, 'file' | 'frames' | 'durationSec' | 'dataOffset' | 'dataBytes'>;

/** Validates the fmt chunk; `size` is its declared size, `bytes` its first min(size, 40) bytes. */
function parseFmt(file: string, bytes: Uint8Array, size: number): FmtFields {
  const formatTag = u16(bytes, 0);
  const channels = u16(bytes, 2);
  const sampleRate = u32(bytes, 4);
  const blockAlign = u16(bytes, 12);
  const bitsPerSample = u16(bytes, 14);
  const extensible = formatTag === FORMAT_EXTENSIBLE;

  let code = formatTag;
  if (extensible) {
    if (size < 40) {
      throw fileError(file, `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes; expected 40`, 'CORRUPT', {
        field: 'fmt',
      });
    }
    const validBits = u16(bytes, 18);
    code = u16(bytes, 24);
    const tailMatches = SUBFORMAT_GUID_TAIL.every((b, i) => bytes[26 + i] === b);
    if (!tailMatches) {
      const guid = Array.from(bytes.subarray(24, 40), (b) => b.toString(16).padStart(2, '0')).join('');
      throw fileError(
        file,
        `unsupported WAVE_FORMAT_EXTENSIBLE sub-format GUID ${guid}; only PCM and IEEE float are read`,
        'UNSUPPORTED',
        {
          field: 'fmt.subFormat',
          expected: 'KSDATAFORMAT_SUBTYPE_PCM or KSDATAFORMAT_SUBTYPE_IEEE_FLOAT',
        },
      );
    }
    // Valid bits only say how many low bits are padding; samples are still scaled by the container size,
    // as torchaudio does. More valid bits than the container holds is a contradiction.
    if (validBits > bitsPerSample) {
      throw fileError(
        file,
        `extensible header says ${validBits} valid bits in a ${bitsPerSample}-bit container`,
        'CORRUPT',
        {
          field: 'fmt.validBitsPerSample',
        },
      );
    }
  }

  let encoding: 'pcm' | 'float';
  if (code === FORMAT_PCM) encoding = 'pcm';
  else if (code === FORMAT_IEEE_FLOAT) encoding = 'float';
  else {
    const name = FORMAT_NAMES[code] ? ` (${FORMAT_NAMES[code]})` : '';
    const where = extensible ? ' in the WAVE_FORMAT_EXTENSIBLE sub-format' : '';
    throw fileError(
      file,
      `unsupported WAV format code ${hex4(code)}${name}${where}; only PCM (1) and IEEE float (3) are read`,
      'UNSUPPORTED',
      {
        field: extensible ? 'fmt.subFormat' : 'fmt.formatTag',
        expected: 'PCM (1), IEEE float (3), or WAVE_FORMAT_EXTENSIBLE (0xFFFE) wrapping one of them',
      },
    );
  }

  if (channels === 0) {
    throw fileError(file, 'fmt chunk declares zero channels', 'BAD_INPUT', {
      field: 'fmt.channels',
      expected: 'at least 1',
    });
  }
  if (sampleRate === 0) {
    throw fileError(file, 'fmt chunk declares a sample rate of 0 Hz', 'BAD_INPUT', {
      field: 'fmt.sampleRate',
      expected: 'a positive rate in Hz',
    });
  }
  if (sampleRate < MIN_SAMPLE_RATE) {
    const problem = `sample rate ${sampleRate} Hz is below the ${MIN_SAMPLE_RATE} Hz this reader accepts`;
    throw fileError(file, `${problem} (is the header damaged?)`, 'UNSUPPORTED', {
      field: 'fmt.sampleRate',
      expected: `at least ${MIN_SAMPLE_RATE} Hz`,
    });
  }
  if (sampleRate > MAX_SAMPLE_RATE) {
    throw fileError(
      file,
      `sample rate ${sampleRate} Hz is above the ${MAX_SAMPLE_RATE} Hz this reader accepts`,
      'UNSUPPORTED',
      {
        field: 'fmt.sampleRate',
        expected: `at most ${MAX_SAMPLE_RATE} Hz`,
      },
    );
  }
  const allowed = encoding === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!allowed.includes(bitsPerSample)) {
    throw fileError(
      file,
      `unsupported ${encoding === 'pcm' ? 'PCM' : 'float'} sample size of ${bitsPerSample} bits; expected ${allowed.join(', ')}`,
      'UNSUPPORTED',
      {
        field: 'fmt.bitsPerSample',
        expected: allowed.join(' or '),
      },
    );
  }
  const expectedAlign = (channels * bitsPerSample) / 8;
  if (blockAlign !== expectedAlign) {
    throw fileError(
      file,
      `fmt block align is ${blockAlign} bytes but ${channels} channel(s) × ${bitsPerSample} bits needs ${expectedAlign}`,
      'CORRUPT',
      { field: 'fmt.blockAlign', expected: String(expectedAlign) },
    );
  }
  return { formatTag, encoding, extensible, bitsPerSample, channels, sampleRate, blockAlign };
}

/**
 * Walks the chunks after "RIFF....WAVE" until the data chunk. Unknown chunks (LIST, fact, bext, JUNK, …) are
 * skipped, odd-sized ones with their pad byte. The RIFF size field is not trusted (streaming writers leave it 0 or
 * stale); the file's real size bounds the walk instead. The data chunk's size is trusted only if the file holds it.
 */
export function* parseWavHeader(file: string, fileSize: number): HeaderParser {
  if (fileSize < 12) {
    const head = fileSize > 0 ? yield { offset: 0, length: fileSize } : new Uint8Array(0);
    if (fileSize >= 4 && ascii(head, 0, 4) !== 'RIFF') notRiffWave(file, head);
    throw fileError(
      file,
      `not a RIFF/WAVE file: only ${fileSize} bytes, shorter than the 12-byte RIFF header`,
      'BAD_INPUT',
      {
        expected: 'a RIFF/WAVE file',
      },
    );
  }
  const head = yield { offset: 0, length: 12 };
  if (ascii(head, 0, 4) !== 'RIFF' || ascii(head, 8, 4) !== 'WAVE') notRiffWave(file, head);

  let fmt: FmtFields | undefined;
  let overrun = '';
  let pos = 12;
  let chunks = 0;
  while (pos + 8 <= fileSize) {
    if (++chunks > MAX_HEADER_CHUNKS) {
      const problem =
        `more than ${MAX_HEADER_CHUNKS} chunks before the data chunk (stopped at byte ${pos}); ` +
        'a WAV header has a handful, so this one is damaged';
      throw fileError(file, problem, 'CORRUPT', {
        field: 'data',
        expected: `a data chunk within the first ${MAX_HEADER_CHUNKS} chunks`,
      });
    }
    const chunkHead = yield { offset: pos, length: 8 };
    const id = ascii(chunkHead, 0, 4);
    const size = u32(chunkHead, 4);
    const body = pos + 8;
    const available = fileSize - body;

    if (id === 'fmt ' && fmt === undefined) {
      if (size < 16) {
        throw fileError(file, `fmt chunk is ${size} bytes; expected at least 16`, 'CORRUPT', { field: 'fmt' });
      }
      if (size > available) {
        throw fileError(
          file,
          `fmt chunk is truncated: it declares ${size} bytes but only ${available} follow`,
          'CORRUPT',
          { field: 'fmt' },
        );
      }
      fmt = parseFmt(file, yield { offset: body, length: Math.min(size, 40) }, size);
    } else if (id === 'data') {
      if (fmt === undefined) {
        throw fileError(
          file,
          `data chunk at byte ${pos} comes before any fmt chunk; the format must be declared first`,
          'BAD_INPUT',
          {
            field: 'fmt',
            expected: 'a fmt chunk before the data chunk',
          },
        );
      }
      if (size > available) {
        throw fileError(
          file,
          `data chunk is truncated: its header claims ${size} bytes of audio but only ${available} bytes follow it`,
          'CORRUPT',
          { field: 'data', expected: `at most ${available} bytes` },
        );
      }
      const frames = Math.floor(size / fmt.blockAlign);
      if (frames === 0) {
        throw fileError(
          file,
          `data chunk is empty (${size} bytes, no complete ${fmt.blockAlign}-byte frame)`,
          'BAD_INPUT',
          {
            field: 'data',
            expected: 'at least one frame of audio',
          },
        );
      }
      return {
        file,
        ...fmt,
        frames,
        durationSec: frames / fmt.sampleRate,
        dataOffset: body,
        dataBytes: frames * fmt.blockAlign,
      };
    }
    if (size > available)
      overrun = ` (chunk ${showFourCC(chunkHead, 0)} at byte ${pos} declares ${size} bytes, past the end of the file)`;
    pos = body + size + (size & 1);
  }
  if (fmt === undefined) {
    throw fileError(file, `no fmt chunk found${overrun}; a WAV file must declare its format`, 'BAD_INPUT', {
      field: 'fmt',
      expected: 'a fmt chunk',
    });
  }
  throw fileError(file, `no data chunk found${overrun}`, 'BAD_INPUT', { field: 'data', expected: 'a data chunk' });
}
