import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { fixtureClipInfo, MIMII_8CH } from '../helpers/audioFixtures';
import { runCli as run } from '../helpers/cli';
import { floatBytes, wav } from './wavBytes';

describe('genrep info', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'genrep-info-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it('prints format, channels, rate, frames and duration of an extensible 8-channel file', async () => {
    const { code, stdout, stderr } = await run(['info', MIMII_8CH]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(`file:        ${MIMII_8CH}\n`);
    expect(stdout).toContain('format:      PCM, 16-bit, WAVE_FORMAT_EXTENSIBLE (format tag 0xFFFE)\n');
    expect(stdout).toContain('channels:    8\n');
    expect(stdout).toContain('sample rate: 16000 Hz\n');
    expect(stdout).toContain('frames:      160000\n');
    expect(stdout).toContain('duration:    10.000 s\n');
  });

  it('says float and non-extensible for a plain float file', async () => {
    const file = path.join(dir, 'float.wav');
    writeFileSync(
      file,
      wav(
        { formatTag: 3, channels: 2, sampleRate: 44100, bitsPerSample: 64 },
        floatBytes(new Array<number>(2 * 4410).fill(0), 64),
      ),
    );
    const { code, stdout } = await run(['info', file]);
    expect(code).toBe(0);
    expect(stdout).toContain('format:      IEEE float, 64-bit, format tag 0x0003\n');
    expect(stdout).toContain('duration:    0.100 s\n');
  });

  it('--json prints one machine-readable object', async () => {
    const { code, stdout } = await run(['info', '--json', MIMII_8CH]);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout)).toEqual(fixtureClipInfo(MIMII_8CH, 8, true));
  });

  it('fails with exit 1 and one line on stderr for a missing file', async () => {
    const file = path.join(dir, 'missing.wav');
    const { code, stdout, stderr } = await run(['info', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`genrep: ${file}: no such file\n`);
  });

  it('fails with exit 1 and one line on stderr for a file that is not a WAV', async () => {
    const file = path.join(dir, 'notes.wav');
    writeFileSync(file, 'just some text, long enough');
    const { code, stderr } = await run(['info', '--json', file]);
    expect(code).toBe(1);
    expect(stderr).toBe(`genrep: ${file}: not a RIFF/WAVE file (starts with "just"; expected "RIFF" then "WAVE")\n`);
  });
});
