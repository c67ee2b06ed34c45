import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  DATASET_VIEW_ID,
  RESTART_SETTINGS,
  RESULTS_PANEL_TYPE,
  RUNS_VIEW_ID,
  VIEW_CONTAINER_ID,
  WALKTHROUGH_ID,
} from '../../extension/src/commandIds';
import { childrenOf, rootNodes, viewOf, type DatasetNode } from '../../extension/src/datasetTreeModel';
import { entryOfRecord, runItemView, type RunStatus } from '../../extension/src/runEntries';
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
    configuration: { id: string; title: string; properties: Record<string, Setting> }[];
    keybindings: { command: string; key: string; mac?: string; when?: string }[];
    walkthroughs: Walkthrough[];
    viewsWelcome: { view: string; contents: string }[];
  };
}
interface Setting {
  scope?: string;
  markdownDescription?: string;
  description?: string;
}
interface Walkthrough {
  id: string;
  title: string;
  steps: {
    id: string;
    title: string;
    description: string;
    media: { markdown?: string; image?: string };
    completionEvents: string[];
  }[];
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
      expect.objectContaining({ id: RUNS_VIEW_ID, name: 'Runs' }),
    ]);
    expect(manifest.activationEvents).toContain(`onWebviewPanel:${RESULTS_PANEL_TYPE}`);
    expect(manifest.activationEvents).toContain('workspaceContains:**/*.genrep.json');
    expect(manifest.extensionKind).toEqual(['workspace']);
  });

  it('maps *.genrep.json to the completion-only run-config schema (the worker validates) and *.encoder.json to the encoder schema', () => {
    expect(contributes.jsonValidation).toEqual([
      { fileMatch: '*.genrep.json', url: './schemas/run-config.completion.schema.json' },
      // Descriptors have no worker-side diagnostics while typing: VS Code's JSON service with the full schema is
      // their one source (the reader checks the same schema when a descriptor is used).
      { fileMatch: '*.encoder.json', url: './schemas/encoder.schema.json' },
    ]);
    expect(existsSync(path.join(ROOT, 'schemas', 'run-config.completion.schema.json'))).toBe(true);
    expect(existsSync(path.join(ROOT, 'schemas', 'encoder.schema.json'))).toBe(true);
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
    const datasetValues = new Set(
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
    const record = entryOfRecord({
      id: 'r',
      configFile: '/w/a.genrep.json',
      name: 'a',
      startedAt: '',
      status: 'failed',
    });
    const runValues = new Set(
      (['complete', 'cancelled', 'failed', 'running'] satisfies RunStatus[]).map(
        (status) => runItemView({ ...record, status }).contextValue,
      ),
    );
    expect(runValues).toEqual(new Set(['run.complete', 'run.cancelled', 'run.failed', 'run.running']));
    for (const item of contributes.menus['view/item/context'] as { command: string; when: string }[]) {
      const view = /view == ([\w.]+)/.exec(item.when)?.[1];
      expect([DATASET_VIEW_ID, RUNS_VIEW_ID], item.when).toContain(view);
      const values = view === RUNS_VIEW_ID ? runValues : datasetValues;
      const eq = /viewItem == ([\w.]+)/.exec(item.when);
      const re = /viewItem =~ \/(.+?)\/(\w*)/.exec(item.when);
      const matches = [...values].filter((v) => (eq ? v === eq[1] : re ? new RegExp(re[1]!, re[2]).test(v) : false));
      expect(matches.length, `${item.command} when ${item.when}`).toBeGreaterThan(0);
    }
  });

  it('declares every setting the extension reads', () => {
    const declared = contributes.configuration.flatMap((section) => Object.keys(section.properties));
    const source = readFileSync(path.join(ROOT, 'extension', 'src', 'config.ts'), 'utf8');
    const read = [...source.matchAll(/get(?:<[^>]+>)?\('([\w.]+)'/g)].map((m) => `genrep.${m[1]}`);
    expect(read.length).toBeGreaterThan(5);
    for (const key of read) expect(declared).toContain(key);
    for (const key of RESTART_SETTINGS.map((k) => `genrep.${k}`)) expect(declared).toContain(key);
  });

  it('groups the settings in titled sections, saying where model files go and how to set them on a remote', () => {
    expect(contributes.configuration.map((c) => c.title)).toEqual([
      'GenRep: Datasets',
      'GenRep: Models and Caches',
      'GenRep: Memory Banks and Scoring',
      'GenRep: Worker',
    ]);
    const all = Object.assign({}, ...contributes.configuration.map((c) => c.properties)) as Record<string, Setting>;
    for (const [key, setting] of Object.entries(all))
      expect(setting.markdownDescription ?? setting.description, key).toMatch(/\w/);
    for (const key of ['genrep.modelDirectory', 'genrep.cacheDirectory']) {
      expect(all[key]?.scope, key).toBe('machine-overridable');
      expect(all[key]?.markdownDescription, key).toMatch(/\*\*Remote\*\* tab/);
    }
    expect(all['genrep.modelDirectory']?.markdownDescription).toContain('~/.cache/genrep/models');
  });

  it('binds Run Experiment and Score Selected WAV Files to distinct chords', () => {
    const bound = contributes.keybindings.map((k) => k.command).sort();
    expect(bound).toEqual(['genrep.runExperiment', 'genrep.scoreSelectedFiles']);
    const keys = contributes.keybindings.flatMap((k) => [k.key, k.mac ?? k.key]);
    expect(new Set(contributes.keybindings.map((k) => k.key)).size).toBe(contributes.keybindings.length);
    // A chord under ctrl+alt+g / cmd+alt+g: a single ctrl+alt+r is Linux's default for Reveal in File Explorer.
    for (const key of keys) expect(key).toMatch(/^(ctrl|cmd)\+alt\+g [a-z]$/);
  });

  it('has a walkthrough whose steps each have existing media and completion events', () => {
    const [walkthrough] = contributes.walkthroughs;
    expect(contributes.walkthroughs).toHaveLength(1);
    expect(WALKTHROUGH_ID).toBe(
      `${(manifest as unknown as { publisher: string }).publisher}.genrep#${walkthrough!.id}`,
    );
    expect(walkthrough!.steps.map((s) => s.id)).toEqual([
      'addDataset',
      'createConfig',
      'runExperiment',
      'readPanel',
      'scoreFiles',
      'beatsWeights',
    ]);
    for (const step of walkthrough!.steps) {
      const media = step.media.markdown ?? step.media.image;
      expect(media, step.id).toBeDefined();
      expect(existsSync(path.join(ROOT, media!)), `${step.id}: ${media}`).toBe(true);
      expect(step.completionEvents.length, step.id).toBeGreaterThan(0);
    }
  });

  it('names only commands that exist, in menus, keybindings, walkthrough steps, their media and the welcome views', () => {
    const builtIn = new Set(['workbench.action.openSettings', 'workbench.action.openWalkthrough']);
    const ours = new Set(Object.keys(COMMANDS));
    const referenced: { where: string; command: string }[] = [];
    for (const [menu, items] of Object.entries(contributes.menus))
      for (const item of items) referenced.push({ where: `menus.${menu}`, command: item.command });
    for (const k of contributes.keybindings) referenced.push({ where: `keybinding ${k.key}`, command: k.command });
    const links = (where: string, text: string): void => {
      for (const m of text.matchAll(/\(command:([\w.]+)/g)) referenced.push({ where, command: m[1]! });
    };
    for (const w of contributes.viewsWelcome) links(`viewsWelcome ${w.view}`, w.contents);
    for (const step of contributes.walkthroughs.flatMap((w) => w.steps)) {
      links(`step ${step.id}`, step.description);
      if (step.media.markdown)
        links(`step ${step.id} media`, readFileSync(path.join(ROOT, step.media.markdown), 'utf8'));
      for (const event of step.completionEvents) {
        const m = /^onCommand:(.+)$/.exec(event);
        if (m) referenced.push({ where: `step ${step.id} completion`, command: m[1]! });
        const setting = /^onSettingChanged:(.+)$/.exec(event)?.[1];
        if (setting)
          expect(
            contributes.configuration.flatMap((c) => Object.keys(c.properties)),
            event,
          ).toContain(setting);
        const view = /^onView:(.+)$/.exec(event)?.[1];
        if (view) expect([DATASET_VIEW_ID, RUNS_VIEW_ID], event).toContain(view);
      }
    }
    expect(referenced.length).toBeGreaterThan(40);
    for (const { where, command } of referenced)
      expect(ours.has(command) || builtIn.has(command), `${where}: ${command}`).toBe(true);
  });
});
