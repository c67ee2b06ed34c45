import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  DATASET_VIEW_ID,
  RESTART_SETTINGS,
  RESULTS_PANEL_TYPE,
  VIEW_CONTAINER_ID,
} from '../../extension/src/commandIds';
import { childrenOf, rootNodes, viewOf, type DatasetNode } from '../../extension/src/datasetTreeModel';
import type { DatasetListing } from '../../worker/src/protocol/workerProtocol';

/**
 * Drift checks between package.json's contributions and the code (rust-analyzer's habit): every command has a
 * handler and every handler a command, menus name real commands and real tree contextValues, and settings read in
 * code are declared. (That the extension takes nothing but types from the worker is a lint rule: eslint.config.mjs.)
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** The parts of package.json these checks read. */
interface Manifest {
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  extensionKind: string[];
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    viewsContainers: { activitybar: { id: string; title: string; icon: string }[] };
    views: Record<string, { id: string; name: string }[]>;
    jsonValidation: { fileMatch: string; url: string }[];
    configuration: { properties: Record<string, unknown> };
  };
}
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const contributes = manifest.contributes;

describe('package.json contributions', () => {
  it('declares exactly the commands the extension registers, with their titles, in category GenRep', () => {
    const declared = Object.fromEntries(contributes.commands.map((c) => [c.command, c.title]));
    expect(declared).toEqual(COMMANDS);
    for (const c of contributes.commands) expect(c.category).toBe('GenRep');
  });

  it('names only declared commands in its menus', () => {
    for (const [menu, items] of Object.entries(contributes.menus)) {
      for (const item of items) expect(Object.keys(COMMANDS), `${menu}: ${item.command}`).toContain(item.command);
    }
  });

  it('has the activity-bar container, the Dataset Explorer view and the panel activation', () => {
    expect(contributes.viewsContainers.activitybar).toEqual([
      expect.objectContaining({ id: VIEW_CONTAINER_ID, title: 'GenRep' }),
    ]);
    const [container] = contributes.viewsContainers.activitybar; // exactly one: asserted just above
    expect(existsSync(path.join(ROOT, container!.icon))).toBe(true);
    expect(contributes.views[VIEW_CONTAINER_ID]).toEqual([
      expect.objectContaining({ id: DATASET_VIEW_ID, name: 'Dataset Explorer' }),
    ]);
    expect(manifest.activationEvents).toContain(`onWebviewPanel:${RESULTS_PANEL_TYPE}`);
    expect(manifest.activationEvents).toContain('workspaceContains:**/*.genrep.json');
    expect(manifest.extensionKind).toEqual(['workspace']);
  });

  it('maps *.genrep.json to the completion-only run-config schema that exists (the worker validates)', () => {
    expect(contributes.jsonValidation).toEqual([
      { fileMatch: '*.genrep.json', url: './schemas/run-config.completion.schema.json' },
    ]);
    expect(existsSync(path.join(ROOT, 'schemas', 'run-config.completion.schema.json'))).toBe(true);
  });

  it('points main at what extension/tsconfig.json compiles extension.ts to', () => {
    const tsconfig = readFileSync(path.join(ROOT, 'extension', 'tsconfig.json'), 'utf8');
    expect(tsconfig).toContain('"outDir": "../dist/extension"');
    expect(existsSync(path.join(ROOT, 'extension', 'src', 'extension.ts'))).toBe(true);
    expect(manifest.main).toBe('./dist/extension/extension.js');
  });

  it('targets a VS Code no newer than the API types it compiles against', () => {
    const engine = /^\^(\d+)\.(\d+)/.exec(manifest.engines.vscode)!;
    const types = (
      JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@types', 'vscode', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const [major, minor] = types.split('.').map(Number);
    expect(major).toBe(Number(engine[1]));
    expect(minor).toBeLessThanOrEqual(Number(engine[2]));
  });

  it('gives tree context menus only contextValues the tree produces', () => {
    const listing: DatasetListing = {
      root: '/d',
      status: 'ok',
      resolvedRoot: '/d',
      layout: 'dcase2023',
      skipped: [],
      machines: [
        {
          machineType: 'fan',
          sections: ['00'],
          train: [
            {
              path: '/d/t.wav',
              name: 't.wav',
              section: '00',
              split: 'train',
              domain: 'source',
              label: 'normal',
              attributes: {},
            },
          ],
          test: [
            {
              path: '/d/a.wav',
              name: 'a.wav',
              section: '00',
              split: 'test',
              domain: 'source',
              label: 'anomaly',
              attributes: {},
            },
          ],
        },
      ],
    };
    const missing: DatasetListing = { root: '/m', status: 'missing', message: 'gone', error: { code: 'NOT_FOUND' } };
    const all = (n: DatasetNode): string[] => [viewOf(n).contextValue, ...childrenOf(n).flatMap(all)];
    const values = new Set(
      rootNodes(
        [
          { path: '/d', source: 'settings' },
          { path: '/d2', source: 'config' },
          { path: '/m', source: 'settings' },
        ],
        new Map<string, DatasetListing>([
          ['/d', listing],
          ['/d2', { ...listing, root: '/d2' }],
          ['/m', missing],
        ]),
      ).flatMap(all),
    );
    for (const item of contributes.menus['view/item/context'] as { command: string; when: string }[]) {
      const eq = /viewItem == ([\w.]+)/.exec(item.when);
      const re = /viewItem =~ \/(.+?)\/(\w*)/.exec(item.when);
      const matches = [...values].filter((v) => (eq ? v === eq[1] : re ? new RegExp(re[1]!, re[2]).test(v) : false));
      expect(matches.length, `${item.command} when ${item.when}`).toBeGreaterThan(0);
    }
  });

  it('declares every setting the extension reads', () => {
    const declared = Object.keys(contributes.configuration.properties);
    const source = readFileSync(path.join(ROOT, 'extension', 'src', 'config.ts'), 'utf8');
    const read = [...source.matchAll(/get(?:<[^>]+>)?\('([\w.]+)'/g)].map((m) => `genrep.${m[1]}`);
    expect(read.length).toBeGreaterThan(5);
    for (const key of read) expect(declared).toContain(key);
    for (const key of RESTART_SETTINGS.map((k) => `genrep.${k}`)) expect(declared).toContain(key);
  });
});
