import { GenrepError } from '../errors';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GenrepError('embedding cancelled', 'CANCELLED');
}

export function checkBatchSize(batchSize: number | undefined, fallback: number): number {
  const size = batchSize ?? fallback;
  if (!Number.isInteger(size) || size < 1) {
    throw new GenrepError(`batchSize must be a positive integer, got ${batchSize}`, 'BAD_INPUT', {
      field: 'batchSize',
    });
  }
  return size;
}

/**
 * Runs `fn` over consecutive [start, end) ranges of `count` items, checking for cancellation before each range
 * and reporting progress after it.
 */
export async function forEachBatch(
  count: number,
  batchSize: number,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  fn: (start: number, end: number) => Promise<void> | void,
): Promise<void> {
  for (let start = 0; start < count; start += batchSize) {
    throwIfAborted(options.signal);
    const end = Math.min(count, start + batchSize);
    await fn(start, end);
    options.onProgress?.(end, count);
  }
}
