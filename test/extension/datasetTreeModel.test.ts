import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  childrenOf,
  clipPathsOf,
  collectRoots,
  rootNodes,
  viewOf,
  type DatasetNode,
} from '../../extension/src/datasetTreeModel';
import type { ClipInfo, DatasetListing } from '../../worker/src/protocol/workerProtocol';

function clip(
  name: string,
  split: 'train' | 'test',
  domain: 'source' | 'target' | null,
  label: 'normal' | 'anomaly' | null,
): ClipInfo {
  return { path: `/data/fan/${split}/${name}`, name, section: '00', split, domain, label, attributes: { spd: '200' } };
}

const fan = {
  machineType: 'fan',
  sections: ['00'],
  train: [
    clip('s1.wav', 'train', 'source', 'normal'),
    clip('s2.wav', 'train', 'source', 'normal'),
    clip('t1.wav', 'train', 'target', 'normal'),
  ],
  test: [
    clip('a1.wav', 'test', 'source', 'anomaly'),
    clip('n1.wav', 'test', 'source', 'normal'),
    clip('n2.wav', 'test', 'target', 'normal'),
  ],
};
const dcase2020 = {
  machineType: 'valve',
  sections: ['00', '02'],
  train: [clip('normal_id_00_0.wav', 'train', null, 'normal')],
  test: [clip('anomaly_id_02_0.wav', 'test', null, 'anomaly')],
};
const listing: DatasetListing = {
  root: '/data',
  status: 'ok',
  resolvedRoot: '/data',
  layout: 'dcase2023',
  machines: [fan, dcase2020],
  skipped: [{ path: '/data/x.txt', reason: 'not a clip' }],
};

function walk(node: DatasetNode, depth = 0): string[] {
  return [
    `${'  '.repeat(depth)}${viewOf(node).label} [${viewOf(node).contextValue}]`,
    ...childrenOf(node).flatMap((c) => walk(c, depth + 1)),
  ];
}

describe('the Dataset Explorer tree', () => {
  const roots = rootNodes([{ path: '/data', source: 'settings' }], new Map([['/data', listing]]));

  it('goes root → machine type → train/test → source/target → clip; layouts without domains skip the domain level', () => {
    expect(walk(roots[0]!)).toEqual([
      'data [datasetRoot.removable]',
      '  fan [machineType]',
      '    train [clipGroup.train]',
      '      source [clipGroup.train]',
      '        s1.wav [clip]',
      '        s2.wav [clip]',
      '      target [clipGroup.train]',
      '        t1.wav [clip]',
      '    test [clipGroup.test]',
      '      source [clipGroup.test]',
      '        a1.wav [clip]',
      '        n1.wav [clip]',
      '      target [clipGroup.test]',
      '        n2.wav [clip]',
      '  valve [machineType]',
      '    train [clipGroup.train]',
      '      normal_id_00_0.wav [clip]',
      '    test [clipGroup.test]',
      '      anomaly_id_02_0.wav [clip]',
    ]);
  });

  it('shows label and domain on each clip and plays it on click', () => {
    const machine = childrenOf(roots[0]!)[0]!;
    const test = childrenOf(machine)[1]!;
    const source = childrenOf(test)[0]!;
    const anomalous = childrenOf(source)[0]!;
    const view = viewOf(anomalous);
    expect(view.description).toBe('anomaly · source · section 00');
    expect(view.icon).toBe('warning');
    expect(view.tooltip).toContain('spd=200');
    expect(view.command).toEqual({ id: 'genrep.playClip', title: 'Play Clip', args: ['/data/fan/test/a1.wav'] });
    expect(viewOf(test).description).toBe('3 clips (2 normal, 1 anomalous)');
    expect(viewOf(machine).description).toBe('3 train · 3 test');
    expect(clipPathsOf(source)).toEqual(['/data/fan/test/a1.wav', '/data/fan/test/n1.wav']);
    expect(clipPathsOf(machine)).toEqual(fan.test.map((c) => c.path));
  });

  it('gives every node an id that is stable across refreshes and unique in the tree', () => {
    const ids = (n: DatasetNode): string[] => [n.id, ...childrenOf(n).flatMap(ids)];
    const first = ids(roots[0]!);
    expect(new Set(first).size).toBe(first.length);
    const again = rootNodes([{ path: '/data', source: 'settings' }], new Map([['/data', structuredClone(listing)]]));
    expect(ids(again[0]!)).toEqual(first);
  });

  it('shows a root that disappeared as a warning without children, and one still loading as such', () => {
    const missing: DatasetListing = {
      root: '/gone',
      status: 'missing',
      message: '/gone: dataset root not found',
      error: { code: 'NOT_FOUND', file: '/gone' },
    };
    const [gone, loading] = rootNodes(
      [
        { path: '/gone', source: 'config', origin: '/ws/a.genrep.json' },
        { path: '/later', source: 'settings' },
      ],
      new Map([['/gone', missing]]),
    );
    expect(viewOf(gone!)).toMatchObject({
      description: 'not found',
      icon: 'warning',
      contextValue: 'datasetRootProblem',
      collapsible: 'none',
    });
    expect(viewOf(gone!).tooltip).toContain('named by /ws/a.genrep.json');
    expect(childrenOf(gone!)).toEqual([]);
    expect(viewOf(loading!)).toMatchObject({ description: 'reading…', contextValue: 'datasetRoot.removable' });
  });

  it('has no nodes without roots (the view then shows its welcome content)', () => {
    expect(rootNodes([], new Map())).toEqual([]);
  });

  it('collects roots from the setting (relative to the workspace) and from run configs, without repeats', () => {
    const ws = path.resolve('/ws');
    const roots2 = collectRoots(['data', '/abs/set', '', 'data/'], ws, [
      { root: 'data', config: path.join(ws, 'a.genrep.json') },
      { root: '../other', config: path.join(ws, 'sub', 'b.genrep.json') },
    ]);
    expect(roots2).toEqual([
      { path: path.join(ws, 'data'), source: 'settings' },
      { path: path.resolve('/abs/set'), source: 'settings' },
      { path: path.join(ws, 'other'), source: 'config', origin: path.join(ws, 'sub', 'b.genrep.json') },
    ]);
    expect(collectRoots(['relative'], undefined, [])).toEqual([]);
  });
});
