/**
 * Builds WAV files byte by byte for the reader's tests, independently of the code under test: every header field
 * can be set to a wrong value on purpose.
 */

export interface Chunk {
  id: string;
  body: Uint8Array;
  /** Size written in the chunk header when it should lie about the body. */
  declaredSize?: number;
}

export interface FmtSpec {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign?: number;
  /** Present → a 40-byte WAVE_FORMAT_EXTENSIBLE fmt (formatTag should then be 0xFFFE). */
  extensible?: { subFormat: number; validBits?: number; channelMask?: number; guidTail?: number[] };
}

const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

export function chunk(id: string, body: Uint8Array | number[], declaredSize?: number): Chunk {
  return { id, body: body instanceof Uint8Array ? body : Uint8Array.from(body), declaredSize };
}

function writeId(out: Uint8Array, at: number, id: string): void {
  for (let i = 0; i < 4; i++) out[at + i] = id.charCodeAt(i);
}

/** RIFF container: each chunk's header, body and, after an odd-sized body, one pad byte. */
export function riff(chunks: Chunk[], options: { riffId?: string; form?: string; riffSize?: number } = {}): Uint8Array {
  const total = 12 + chunks.reduce((n, c) => n + 8 + c.body.length + (c.body.length & 1), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  writeId(out, 0, options.riffId ?? 'RIFF');
  view.setUint32(4, options.riffSize ?? total - 8, true);
  writeId(out, 8, options.form ?? 'WAVE');
  let at = 12;
  for (const c of chunks) {
    writeId(out, at, c.id);
    view.setUint32(at + 4, c.declaredSize ?? c.body.length, true);
    out.set(c.body, at + 8);
    at += 8 + c.body.length + (c.body.length & 1);
  }
  return out;
}

export function fmtChunk(spec: FmtSpec): Chunk {
  const blockAlign = spec.blockAlign ?? (spec.channels * spec.bitsPerSample) / 8;
  const body = new Uint8Array(spec.extensible ? 40 : 16);
  const view = new DataView(body.buffer);
  view.setUint16(0, spec.formatTag, true);
  view.setUint16(2, spec.channels, true);
  view.setUint32(4, spec.sampleRate, true);
  view.setUint32(8, spec.sampleRate * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, spec.bitsPerSample, true);
  if (spec.extensible) {
    view.setUint16(16, 22, true);
    view.setUint16(18, spec.extensible.validBits ?? spec.bitsPerSample, true);
    view.setUint32(20, spec.extensible.channelMask ?? 0, true);
    view.setUint16(24, spec.extensible.subFormat, true);
    body.set(spec.extensible.guidTail ?? GUID_TAIL, 26);
  }
  return chunk('fmt ', body);
}

/** Interleaved integer samples as stored (8-bit: the unsigned byte value). */
export function pcmBytes(values: number[], bits: 8 | 16 | 24 | 32): Uint8Array {
  const width = bits / 8;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    const at = i * width;
    if (bits === 8) view.setUint8(at, v);
    else if (bits === 16) view.setInt16(at, v, true);
    else if (bits === 32) view.setInt32(at, v, true);
    else {
      const u = v & 0xffffff;
      out[at] = u & 0xff;
      out[at + 1] = (u >> 8) & 0xff;
      out[at + 2] = (u >> 16) & 0xff;
    }
  });
  return out;
}

export function floatBytes(values: number[], bits: 32 | 64): Uint8Array {
  const out = new Uint8Array(values.length * (bits / 8));
  const view = new DataView(out.buffer);
  values.forEach((v, i) => (bits === 32 ? view.setFloat32(i * 4, v, true) : view.setFloat64(i * 8, v, true)));
  return out;
}

/** A plain WAV: fmt then data, with optional chunks before, between and after. */
export function wav(
  spec: FmtSpec,
  data: Uint8Array,
  extra: { before?: Chunk[]; between?: Chunk[]; after?: Chunk[] } = {},
): Uint8Array {
  return riff([
    ...(extra.before ?? []),
    fmtChunk(spec),
    ...(extra.between ?? []),
    chunk('data', data),
    ...(extra.after ?? []),
  ]);
}

/** A LIST/INFO chunk with an odd-length title, as audio editors write them. */
export function listInfoChunk(title: string): Chunk {
  const text = new TextEncoder().encode(`${title}\0`);
  const body = new Uint8Array(4 + 8 + text.length);
  writeId(body, 0, 'INFO');
  writeId(body, 4, 'INAM');
  new DataView(body.buffer).setUint32(8, text.length, true);
  body.set(text, 12);
  return chunk('LIST', body);
}
