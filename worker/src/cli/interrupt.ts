/**
 * Runs `job` with a signal that the first Ctrl-C aborts, so long work stops between clips or files and leaves
 * nothing half-written (a rerun resumes); the listener is gone after that, so a second Ctrl-C exits at once.
 */
export async function withInterrupt<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = (): void => {
    process.off('SIGINT', onInterrupt);
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await job(controller.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
