import { GenrepError } from '../../worker/src/errors';

/** The error of class `type` that `fn` throws; fails the test if it throws nothing or something else. */
export function thrownOf<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

/** The GenrepError `fn` throws; fails the test if it throws nothing or something else. */
export function genrepErrorOf(fn: () => unknown): GenrepError {
  return thrownOf(fn, GenrepError);
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
