import { describe, expect, it } from 'vitest';
import {
  allowedFilesOf,
  explainedFiles,
  handlePanelMessage,
  parseFromWebview,
  type PanelHost,
} from '../../extension/src/panelMessages';
import type { ExplainResult } from '../../worker/src/protocol/explain';
import type { RunResults } from '../../worker/src/protocol/results';
import type { PanelContent, ToWebview } from '../../worker/src/protocol/webviewProtocol';
import { oneBinSpectrogram } from '../helpers/spectrogram';
import { explainFixture } from '../webview/explainFixture';

const CLIP = '/data/fan/test/section_00_target_test_anomaly_0003.wav';
const NEAREST = '/data/fan/train/section_00_target_train_normal_0012.wav';

const results = {
  configFile: '/ws/demo.genrep.json',
  outputs: ['results.json'],
  variants: [{ machines: [{ files: [{ path: CLIP }] }] }],
} as unknown as RunResults;
const content: PanelContent = { kind: 'results', file: '/ws/out/results.json', results };

/** A host like resultsPanel.ts's: the allowed files are the content's plus what answers allowed since. */
function explainHost(explain: (file: string, variant: string | undefined) => Promise<ExplainResult>) {
  const posted: ToWebview[] = [];
  const calls: string[] = [];
  const extra: string[] = [];
  const host: PanelHost = {
    spectrogram: (file) => {
      calls.push(`spectrogram ${file}`);
      return Promise.resolve(oneBinSpectrogram(file));
    },
    clipAudio: () => Promise.reject(new Error('unused')),
    explainClip: (file, variant) => {
      calls.push(`explain ${file} ${variant ?? '(first variant)'}`);
      return explain(file, variant);
    },
    allowFiles: (files) => extra.push(...files),
    openFile: () => Promise.resolve(),
    revealFile: () => Promise.resolve(),
    copyText: () => Promise.resolve(),
    saveChart: () => Promise.resolve(),
    post: (m) => posted.push(m),
    ready: () => undefined,
    allowedFiles: () => allowedFilesOf(content, extra),
    warn: (m) => calls.push(`warn ${m}`),
  };
  return { host, posted, calls };
}

describe('explainClip between the panel and the host', () => {
  it('parses an explainClip request with an optional variant, and refuses malformed ones', () => {
    expect(parseFromWebview({ type: 'request', requestId: 3, method: 'explainClip', params: { file: CLIP } })).toEqual({
      type: 'request',
      requestId: 3,
      method: 'explainClip',
      params: { file: CLIP },
    });
    expect(
      parseFromWebview({ type: 'request', requestId: 3, method: 'explainClip', params: { file: CLIP, variant: 'dn' } }),
    ).toMatchObject({ params: { file: CLIP, variant: 'dn' } });
    expect(
      parseFromWebview({ type: 'request', requestId: 3, method: 'explainClip', params: { file: CLIP, variant: 7 } }),
    ).toBeUndefined();
    expect(
      parseFromWebview({
        type: 'request',
        requestId: 3,
        method: 'explainClip',
        params: { file: CLIP, variant: 'v'.repeat(201) },
      }),
    ).toBeUndefined();
    expect(
      parseFromWebview({ type: 'request', requestId: 3, method: 'explain', params: { file: CLIP } }),
    ).toBeUndefined();
  });

  it('explains a shown clip and answers with the result under the same requestId', async () => {
    const { host, posted, calls } = explainHost((file) => Promise.resolve({ ...explainFixture(), clip: file }));
    await handlePanelMessage(
      { type: 'request', requestId: 9, method: 'explainClip', params: { file: CLIP, variant: 'default' } },
      host,
    );
    expect(calls).toEqual([`explain ${CLIP} default`]);
    expect(posted).toEqual([
      { type: 'reply', requestId: 9, method: 'explainClip', ok: true, result: { ...explainFixture(), clip: CLIP } },
    ]);
  });

  it('refuses to explain a file the panel does not show, without asking the worker', async () => {
    const { host, posted, calls } = explainHost(() => Promise.resolve(explainFixture()));
    await handlePanelMessage(
      { type: 'request', requestId: 1, method: 'explainClip', params: { file: '/etc/passwd' } },
      host,
    );
    expect(calls).toEqual([]);
    expect(posted).toEqual([
      {
        type: 'reply',
        requestId: 1,
        method: 'explainClip',
        ok: false,
        error: '/etc/passwd is not part of the shown results',
      },
    ]);
  });

  it("allows the nearest normal clip's spectrogram only once an explanation named it", async () => {
    const { host, posted, calls } = explainHost(() => Promise.resolve(explainFixture()));
    await handlePanelMessage({ type: 'request', requestId: 1, method: 'spectrogram', params: { file: NEAREST } }, host);
    expect(posted[0]).toMatchObject({ ok: false, error: `${NEAREST} is not part of the shown results` });
    await handlePanelMessage({ type: 'request', requestId: 2, method: 'explainClip', params: { file: CLIP } }, host);
    await handlePanelMessage({ type: 'request', requestId: 3, method: 'spectrogram', params: { file: NEAREST } }, host);
    expect(posted[2]).toMatchObject({ requestId: 3, ok: true });
    expect(calls).toEqual([`explain ${CLIP} (first variant)`, `spectrogram ${NEAREST}`]);
  });

  it('passes a failed explanation on as an error reply and allows nothing', async () => {
    const { host, posted } = explainHost(() => Promise.reject(new Error('fan: no feature cache for layer 9')));
    await handlePanelMessage({ type: 'request', requestId: 4, method: 'explainClip', params: { file: CLIP } }, host);
    expect(posted).toEqual([
      { type: 'reply', requestId: 4, method: 'explainClip', ok: false, error: 'fan: no feature cache for layer 9' },
    ]);
    expect(host.allowedFiles().has(NEAREST)).toBe(false);
  });

  it('allows the neighbours with a path only (a MemMixup row is a mix, not a file)', () => {
    expect(explainedFiles(explainFixture())).toEqual([NEAREST]);
  });
});
