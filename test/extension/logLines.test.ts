import { describe, expect, it } from 'vitest';
import { LineBuffer, parseClientLine } from '../../extension/src/logLines';

describe('the language client lines in the GenRep log', () => {
  it('turns the client prefix into the level and leaves the message alone', () => {
    expect(parseClientLine('[Info  - 2:07:13 PM] run demo: 12 clips')).toEqual({
      level: 'info',
      message: 'run demo: 12 clips',
    });
    expect(parseClientLine('[Warn  - 14:07:13] skipped a.wav')).toEqual({ level: 'warn', message: 'skipped a.wav' });
    expect(parseClientLine('[Error - 14:07:13] boom')).toEqual({ level: 'error', message: 'boom' });
    expect(parseClientLine('[Trace - 14:07:13] x')).toEqual({ level: 'trace', message: 'x' });
    expect(parseClientLine('genrep worker: broken message frame')).toEqual({
      level: 'info',
      message: 'genrep worker: broken message frame',
    });
    // A message that merely starts with a bracket is not the client's prefix.
    expect(parseClientLine('[fan] 3 clips')).toEqual({ level: 'info', message: '[fan] 3 clips' });
  });

  it('logs stderr whole lines at a time, whatever pieces it arrives in', () => {
    const buffer = new LineBuffer();
    expect(buffer.push('genrep wor')).toEqual([]);
    expect(buffer.push('ker: one\r\ntwo\n\nthr')).toEqual(['genrep worker: one', 'two']);
    expect(buffer.push('ee\n')).toEqual(['three']);
  });
});
