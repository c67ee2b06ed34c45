import { GenrepError } from '../../errors';

/**
 * Checks on descriptor fields, each failing with BAD_INPUT naming the field as a JSON pointer into the descriptor
 * (`/frontEnd/n_fft`), so a bad descriptor is refused before any clip is processed.
 */
export function badField(pointer: string, expected: string, found: unknown): GenrepError {
  return new GenrepError(`${pointer}: expected ${expected}, found ${describe(found)}`, 'BAD_INPUT', {
    field: pointer,
    expected,
  });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? typeof value;
}

export function knownKeys(value: object, pointer: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw badField(`${pointer}/${key}`, `no such field (known: ${keys.join(', ')})`, key);
  }
}

export function positiveInteger(value: unknown, pointer: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw badField(pointer, min === 1 ? 'a positive integer' : `a positive integer ≥ ${min}`, value);
  }
  return value;
}

export function finiteNumber(value: unknown, pointer: string, expected = 'a finite number'): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badField(pointer, expected, value);
  return value;
}

export function oneOf<T extends string | number>(value: unknown, pointer: string, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw badField(pointer, `one of ${allowed.map((a) => JSON.stringify(a)).join(' | ')}`, value);
  }
  return value as T;
}

export function optionalBoolean(value: unknown, pointer: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw badField(pointer, 'true or false', value);
  return value;
}

export function objectAt(value: unknown, pointer: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badField(pointer, 'an object', value);
  return value as Record<string, unknown>;
}
