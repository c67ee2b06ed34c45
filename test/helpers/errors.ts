import { GenrepError } from '../../worker/src/errors';

/** The GenrepError `fn` throws; fails the test if it throws nothing or something else. */
export function genrepErrorOf(fn: () => unknown): GenrepError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GenrepError) return err;
    throw err;
  }
  throw new Error('expected a GenrepError, nothing was thrown');
}

/** The GenrepError `promise` rejects with; fails the test if it resolves or rejects with something else. */
export function genrepRejection(promise: Promise<unknown>): Promise<GenrepError> {
  return promise.then(
    () => {
      throw new Error('expected a GenrepError, the promise resolved');
    },
    (err: unknown) => {
      if (err instanceof GenrepError) return err;
      throw err;
    },
  );
}
