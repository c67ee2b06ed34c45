/** Thrown by a probe to stop waiting at once (the thing awaited can no longer happen). */
export class WaitAborted extends Error {}

/**
 * Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs` naming what was awaited.
 * Errors the probe throws count as "not yet", except WaitAborted.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof WaitAborted) throw new Error(`${what}: ${error.message}`, { cause: error });
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
