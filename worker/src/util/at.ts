import { GenrepError } from '../errors';

/**
 * `array[index]`, or an INTERNAL GenrepError naming `what` when the index is out of range: for lookups whose index
 * our own code computed, where a miss is a bug to report rather than an `undefined` to carry on with.
 */
export function at<T>(array: ArrayLike<T>, index: number, what: string): T {
  const value = array[index];
  if (value === undefined) {
    throw new GenrepError(`${what}: index ${index} is out of range (length ${array.length})`, 'INTERNAL');
  }
  return value;
}
