import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli';
import { isOneLineError, runCliProcess } from '../helpers/cliProcess';

/**
 * Names taken from the filesystem reach the terminal only escaped: a file name holding a newline and an ANSI
 * sequence cannot forge a second output line or clear the screen through an error message.
 */
const tmp = tempDir('genrep-terminal-');
afterAll(() => tmp.cleanup());

describe('control characters in echoed names', () => {
  it('escapes a WAV file name with a newline, ESC sequences and BEL', async () => {
    const name = 'evil\ngenrep: all clips normal\x1b[2J\x1b]0;title\x07.wav';
    const file = path.join(tmp.dir, name);
    writeFileSync(file, 'RIFF\x04\x00\x00\x00WAVE'); // a header cut short: the reader's error names the file
    const run = await runCliProcess(['info', file], { timeoutMs: 20_000 });
    expect(run.code).toBe(1);
    expect(isOneLineError(run.stderr), JSON.stringify(run.stderr)).toBe(true);
    expect(run.stderr).toContain('evil\\ngenrep: all clips normal\\x1b[2J\\x1b]0;title\\x07.wav');
  });

  it('escapes a missing file name the same way', async () => {
    const run = await runCliProcess([
      'fbank',
      path.join(tmp.dir, 'gone\r\x1b[1A.wav'),
      '--out',
      path.join(tmp.dir, 'f.npy'),
    ]);
    expect(run.code).toBe(1);
    expect(isOneLineError(run.stderr), JSON.stringify(run.stderr)).toBe(true);
    expect(run.stderr).toContain('gone\\r\\x1b[1A.wav');
  });
});
