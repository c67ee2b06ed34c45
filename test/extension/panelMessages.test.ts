import { describe, expect, it } from 'vitest';
import { MAX_COPY_CHARS } from '../../extension/src/panelExports';
import {
  allowedFilesOf,
  handlePanelMessage,
  parseFromWebview,
  type PanelHost,
} from '../../extension/src/panelMessages';
import type { RunResults } from '../../worker/src/protocol/results';
import type { PanelContent, ToWebview } from '../../worker/src/protocol/webviewProtocol';
import type { ClipAudioResult } from '../../worker/src/protocol/workerProtocol';
import { oneBinSpectrogram } from '../helpers/spectrogram';

const CLIP = '/data/fan/test/section_00_source_test_normal_0000.wav';
const OTHER = '/home/me/.ssh/id_rsa';

const results = {
  configFile: '/ws/demo.genrep.json',
  outputs: ['results.json', 'report.html', 'anomaly_score_fan_section_00_test.csv'],
  variants: [{ machines: [{ files: [{ path: CLIP }] }] }],
} as unknown as RunResults;
const content: PanelContent = { kind: 'results', file: '/ws/out/results.json', results };

function fakeHost(overrides: Partial<PanelHost> = {}) {
  const posted: ToWebview[] = [];
  const calls: string[] = [];
  const warnings: string[] = [];
  const host: PanelHost = {
    spectrogram: (file) => {
      calls.push(`spectrogram ${file}`);
      return Promise.resolve(oneBinSpectrogram(file));
    },
    clipAudio: (file) => {
      calls.push(`clipAudio ${file}`);
      return Promise.resolve({
        file,
        wav: '',
        sampleRate: 16000,
        durationSec: 0,
        truncated: false,
      } satisfies ClipAudioResult);
    },
    openFile: (file) => {
      calls.push(`open ${file}`);
      return Promise.resolve();
    },
    revealFile: (file) => {
      calls.push(`reveal ${file}`);
      return Promise.resolve();
    },
    copyText: (text, what) => {
      calls.push(`copy ${what}: ${text}`);
      return Promise.resolve();
    },
    saveChart: (fileName, format, bytes) => {
      calls.push(`save ${fileName} ${format} ${bytes.length} bytes`);
      return Promise.resolve();
    },
    post: (m) => posted.push(m),
    explainClip: (file) =>
      Promise.reject(new Error(`no explanation of ${file} here (test/extension/explainMessages.test.ts)`)),
    allowFiles: (files) => calls.push(`allow ${files.join(' ')}`),
    ready: () => calls.push('ready'),
    allowedFiles: () => allowedFilesOf(content),
    warn: (m) => warnings.push(m),
    ...overrides,
  };
  return { host, posted, calls, warnings };
}

describe('the host side of the panel messages', () => {
  it('answers ready by (re)sending the content', async () => {
    const { host, calls } = fakeHost();
    await handlePanelMessage({ type: 'ready' }, host);
    expect(calls).toEqual(['ready']);
  });

  it('answers a spectrogram request for a shown clip with a reply carrying the same requestId', async () => {
    const { host, posted, calls } = fakeHost();
    await handlePanelMessage({ type: 'request', requestId: 7, method: 'spectrogram', params: { file: CLIP } }, host);
    expect(calls).toEqual([`spectrogram ${CLIP}`]);
    expect(posted).toEqual([expect.objectContaining({ type: 'reply', requestId: 7, method: 'spectrogram', ok: true })]);
  });

  it('turns a worker failure into a failed reply, not a thrown error', async () => {
    const { host, posted } = fakeHost({
      clipAudio: () => Promise.reject(new Error(`${CLIP}: not a WAV file`)),
    });
    await handlePanelMessage({ type: 'request', requestId: 3, method: 'clipAudio', params: { file: CLIP } }, host);
    expect(posted).toEqual([
      { type: 'reply', requestId: 3, method: 'clipAudio', ok: false, error: `${CLIP}: not a WAV file` },
    ]);
  });

  it('refuses files that are not part of the shown results, without touching them', async () => {
    const { host, posted, calls, warnings } = fakeHost();
    await handlePanelMessage({ type: 'request', requestId: 1, method: 'clipAudio', params: { file: OTHER } }, host);
    await handlePanelMessage({ type: 'openFile', file: OTHER }, host);
    await handlePanelMessage({ type: 'revealFile', file: OTHER }, host);
    expect(calls).toEqual([]);
    expect(posted).toEqual([
      {
        type: 'reply',
        requestId: 1,
        method: 'clipAudio',
        ok: false,
        error: `${OTHER} is not part of the shown results`,
      },
    ]);
    expect(warnings).toHaveLength(2);
  });

  it("opens the run's own files: the config, results.json and the outputs", async () => {
    const { host, calls } = fakeHost();
    for (const file of ['/ws/demo.genrep.json', '/ws/out/results.json', '/ws/out/report.html'])
      await handlePanelMessage({ type: 'openFile', file }, host);
    await handlePanelMessage({ type: 'revealFile', file: CLIP }, host);
    expect(calls).toEqual([
      'open /ws/demo.genrep.json',
      'open /ws/out/results.json',
      'open /ws/out/report.html',
      `reveal ${CLIP}`,
    ]);
  });

  it('ignores malformed messages with a warning', async () => {
    const { host, posted, calls, warnings } = fakeHost();
    for (const raw of [
      null,
      'ready',
      { type: 'hack' },
      { type: 'request', requestId: 1.5, method: 'spectrogram', params: { file: CLIP } },
      { type: 'request', requestId: 1, method: 'readFile', params: { file: CLIP } },
      { type: 'openFile', file: 42 },
    ]) {
      await handlePanelMessage(raw, host);
    }
    expect(calls).toEqual([]);
    expect(posted).toEqual([]);
    expect(warnings).toHaveLength(6);
  });

  it('parses exactly the FromWebview shapes, dropping extra fields', () => {
    expect(parseFromWebview({ type: 'ready', extra: 1 })).toEqual({ type: 'ready' });
    expect(
      parseFromWebview({ type: 'request', requestId: 2, method: 'clipAudio', params: { file: 'a.wav', more: true } }),
    ).toEqual({ type: 'request', requestId: 2, method: 'clipAudio', params: { file: 'a.wav' } });
    expect(parseFromWebview({ type: 'request', requestId: 2, method: 'clipAudio' })).toBeUndefined();
  });

  it('allows the clips and the bank of a scored view, plus a clip played from the explorer', () => {
    const scored: PanelContent = {
      kind: 'scored',
      title: 't',
      scored: {
        bankFile: '/b/fan.grbank',
        bank: {} as never,
        threshold: 1,
        files: [{ path: '/x/a.wav', score: 1, d_source: null, d_target: null, decision: 0 }],
      },
    };
    expect([...allowedFilesOf(scored, ['/x/played.wav'])].sort()).toEqual([
      '/b/fan.grbank',
      '/x/a.wav',
      '/x/played.wav',
    ]);
    expect(allowedFilesOf(undefined).size).toBe(0);
  });

  it('copies table text to the host clipboard, and refuses an oversized one', async () => {
    const { host, calls, warnings } = fakeHost();
    await handlePanelMessage({ type: 'copyText', text: '| a |\n', what: 'the metric table as Markdown' }, host);
    await handlePanelMessage({ type: 'copyText', text: 'x'.repeat(MAX_COPY_CHARS + 1), what: 'big' }, host);
    expect(calls).toEqual(['copy the metric table as Markdown: | a |\n']);
    expect(warnings).toHaveLength(1);
  });

  it('saves a chart under a safe name, and refuses data that is not the format it claims', async () => {
    const { host, calls, posted } = fakeHost();
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"></svg>';
    await handlePanelMessage({ type: 'saveChart', name: '../../etc/histogram fan', format: 'svg', data: svg }, host);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString('base64');
    await handlePanelMessage({ type: 'saveChart', name: 'roc-plot-fan', format: 'png', data: png }, host);
    await handlePanelMessage(
      { type: 'saveChart', name: 'x', format: 'png', data: Buffer.from('GIF89a').toString('base64') },
      host,
    );
    await handlePanelMessage({ type: 'saveChart', name: 'x', format: 'svg', data: '<script>alert(1)</script>' }, host);
    expect(calls).toEqual([`save etc_histogram_fan.svg svg ${svg.length} bytes`, 'save roc-plot-fan.png png 12 bytes']);
    expect(posted).toEqual([
      { type: 'error', message: 'Saving the chart failed: the PNG does not start with the PNG signature' },
      { type: 'error', message: 'Saving the chart failed: the SVG does not start with an <svg> element' },
    ]);
  });

  it('reports a failed save in the panel instead of throwing', async () => {
    const { host, posted } = fakeHost({
      saveChart: () => Promise.reject(new Error('/ro/a.svg: cannot write it (EACCES)')),
    });
    await handlePanelMessage({ type: 'saveChart', name: 'a', format: 'svg', data: '<svg></svg>' }, host);
    expect(posted).toEqual([
      { type: 'error', message: 'Saving the chart failed: /ro/a.svg: cannot write it (EACCES)' },
    ]);
  });

  it('parses the export messages and drops unknown chart formats', () => {
    expect(parseFromWebview({ type: 'saveChart', name: 'a', format: 'gif', data: '' })).toBeUndefined();
    expect(parseFromWebview({ type: 'copyText', text: 1, what: 'x' })).toBeUndefined();
    expect(parseFromWebview({ type: 'saveChart', name: 'a', format: 'png', data: 'AA==', x: 1 })).toEqual({
      type: 'saveChart',
      name: 'a',
      format: 'png',
      data: 'AA==',
    });
  });
});
