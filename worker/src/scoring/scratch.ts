/**
 * Reusable float64 blocks for Gram matrices. On the VMs this was measured on, the first touch of freshly allocated
 * memory costs ~5 ms per MB (a new 200 × 1000 block: 5–9 ms, about a fifth of the product that fills it), so blocks
 * go back here for the next call instead of to the garbage collector. Only a couple of moderate ones are kept.
 */

const KEEP_BLOCKS = 2;
const KEEP_MAX_VALUES = 2 * 1024 * 1024; // 16 MiB each

const spare: Float64Array[] = [];

/** A block of at least `values` doubles (contents undefined). Hand it back with `returnBlock` when done. */
export function takeBlock(values: number): Float64Array {
  let best: Float64Array | undefined;
  for (const block of spare) if (block.length >= values && (!best || block.length < best.length)) best = block;
  if (!best) return new Float64Array(values);
  spare.splice(spare.indexOf(best), 1);
  return best.subarray(0, values);
}

export function returnBlock(block: Float64Array): void {
  const whole = new Float64Array(block.buffer, 0, block.buffer.byteLength / 8);
  if (whole.length > KEEP_MAX_VALUES) return;
  spare.push(whole);
  if (spare.length > KEEP_BLOCKS) {
    // Keep the largest ones: they serve every smaller request too.
    spare.sort((a, b) => b.length - a.length);
    spare.length = KEEP_BLOCKS;
  }
}
