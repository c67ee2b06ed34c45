import { GenrepError } from '../errors';

/** Option values shared by several commands, parsed once so every command words its errors the same way. */
export function parseChannel(value: string): number | 'mean' {
  if (value === 'mean') return 'mean';
  if (!/^\d+$/.test(value)) {
    throw new GenrepError(`--channel: expected a channel index (0, 1, …) or "mean", got '${value}'`, 'BAD_INPUT', {
      field: 'channel',
    });
  }
  return Number(value);
}

export function parsePositiveInt(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < 1)
      throw new GenrepError(`${name} '${text}': expected a positive integer`, 'BAD_INPUT', { field: name });
    return n;
  };
}
