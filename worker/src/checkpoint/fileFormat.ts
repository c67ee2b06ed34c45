/**
 * What kind of file a checkpoint path holds, from its first bytes, so each wrong kind gets an error that says what
 * to do rather than a zip parser's complaint.
 */
export type CheckpointFormat = 'zip' | 'legacy-pickle' | 'legacy-tar' | 'empty' | 'unknown';

/** Bytes needed to tell the formats apart (a tar header's magic sits at 257). */
export const SNIFF_BYTES = 512;

/** torch.serialization.MAGIC_NUMBER, which the legacy format pickles first, as LONG1's little-endian bytes. */
const LEGACY_MAGIC = Uint8Array.from([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

export function sniffCheckpointFormat(head: Uint8Array): CheckpointFormat {
  if (head.length === 0) return 'empty';
  if (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 3 || head[2] === 5) &&
    head[3] === head[2] + 1
  ) {
    return 'zip'; // a local file header, or the end record of an empty archive
  }
  if (isLegacyPickle(head)) return 'legacy-pickle';
  if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') return 'legacy-tar';
  return 'unknown';
}

function isLegacyPickle(head: Uint8Array): boolean {
  let i = 0;
  if (head[i] === 0x80) i += 2; // PROTO n
  if (head[i] === 0x95) i += 9; // FRAME (protocol 4+)
  if (head[i] !== 0x8a || head[i + 1] !== LEGACY_MAGIC.length) return false; // LONG1 of 10 bytes
  return LEGACY_MAGIC.every((b, k) => head[i + 2 + k] === b);
}
