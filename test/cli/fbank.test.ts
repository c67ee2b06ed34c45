import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { readNpy } from '../../worker/src/io/npy';
import { encodeWavPcm16, readWav } from '../../worker/src/audio';
import { beatsFbank } from '../../worker/src/fbank';
import { FIXTURES } from '../helpers/golden';

const dir = mkdtempSync(path.join(os.tmpdir(), 'genrep-fbank-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mono = path.join(FIXTURES, 'audio', 'dcase2023_fan_test_section_00_source_test_anomaly_0022_m-n_W.wav');
const eightChannel = path.join(FIXTURES, 'audio', 'mimii_fab969_8ch.wav');

const run = (...args: string[]): ReturnType<typeof runCli> => runCli(args);

describe('genrep fbank', () => {
  it("writes the whole clip's raw log-mel fbank as float32 [frames, 128]", async () => {
    const out = path.join(dir, 'raw.npy');
    expect((await run('fbank', mono, '--out', out)).code).toBe(0);
    const npy = await readNpy(out);
    expect(npy.shape).toEqual([998, 128]); // 10 s clip
    expect(npy.data.every(Number.isFinite)).toBe(true);
  });

  it('with --normalize beats writes exactly what the BEATs preprocessing gives', async () => {
    const out = path.join(dir, 'norm.npy');
    expect((await run('fbank', eightChannel, '--normalize', 'beats', '--channel', 'mean', '--out', out)).code).toBe(0);
    const npy = await readNpy(out);
    const expected = beatsFbank((await readWav(eightChannel, { channel: 'mean' })).samples);
    expect(npy.shape).toEqual([998, 128]);
    let maxDiff = 0;
    for (let i = 0; i < expected.data.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(npy.data[i]! - expected.data[i]!));
    expect(npy.data.length).toBe(expected.data.length);
    expect(maxDiff).toBe(0);
  });

  it('names the file when the clip is shorter than one frame', async () => {
    const tiny = path.join(dir, 'tiny.wav');
    writeFileSync(tiny, encodeWavPcm16(new Float32Array(100), 16000));
    const { code, stderr } = await run('fbank', tiny, '--out', path.join(dir, 'tiny.npy'));
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^genrep: ${tiny.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(shorter|frame)`));
  });

  it('refuses a clip longer than --max-duration (default 10 minutes) before decoding it, naming the option', async () => {
    const out = path.join(dir, 'limited.npy');
    const refused = await run('fbank', mono, '--max-duration', '9.5', '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `genrep: ${mono}: the clip is 10.000 s long (160000 frames at 16000 Hz), over the 9.5 s this command reads; ` +
        '--max-duration raises the limit\n',
    );
    expect((await run('fbank', mono, '--max-duration', '10', '--out', out)).code).toBe(0);
    // --normalize beats reads only the first 10 s, so the limit does not apply.
    expect((await run('fbank', mono, '--normalize', 'beats', '--max-duration', '1', '--out', out)).code).toBe(0);
    for (const bad of ['0', '-3', 'abc', '']) {
      const { code, stderr } = await run('fbank', mono, '--max-duration', bad, '--out', out);
      expect(code).toBe(1);
      expect(stderr).toBe(`genrep: --max-duration '${bad}': expected a positive number of seconds\n`);
    }
  });

  it('fails with one line for a missing file, a directory and a bad channel', async () => {
    const missing = await run('fbank', path.join(dir, 'none.wav'), '--out', path.join(dir, 'x.npy'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/none\.wav/);
    const sub = path.join(dir, 'sub.wav');
    mkdirSync(sub);
    expect((await run('fbank', sub, '--out', path.join(dir, 'y.npy'))).stderr).toMatch(/sub\.wav.*director/);
    expect((await run('fbank', mono, '--channel', 'left', '--out', path.join(dir, 'z.npy'))).stderr).toMatch(
      /--channel/,
    );
  });
});
