import * as path from 'node:path';
import type { ClipInfo, DatasetListing, MachineListing } from '../../worker/src/protocol/workerProtocol';

/**
 * The Dataset Explorer's logic without `vscode`: dataset root → machine type → train/test → source/target → clip,
 * with what each row shows and which context actions apply (contextValue). datasetTree.ts only turns these into
 * TreeItems. Ids are stable paths through the tree, so expansion survives a refresh.
 */
export interface RootSpec {
  /** Absolute path. */
  path: string;
  /** Where the root was named: the genrep.datasetRoots setting, or a workspace run config's dataset.root. */
  source: 'settings' | 'config';
  /** For 'config': the config file that names it. */
  origin?: string;
}

export type DatasetNode =
  | { kind: 'root'; id: string; spec: RootSpec; listing: DatasetListing | undefined }
  | { kind: 'machine'; id: string; root: string; machine: MachineListing }
  | { kind: 'split'; id: string; root: string; machineType: string; split: 'train' | 'test'; clips: ClipInfo[] }
  | {
      kind: 'domain';
      id: string;
      root: string;
      machineType: string;
      split: 'train' | 'test';
      domain: 'source' | 'target';
      clips: ClipInfo[];
    }
  | { kind: 'clip'; id: string; root: string; machineType: string; clip: ClipInfo }
  | { kind: 'hint'; id: string; text: string };

export interface NodeView {
  label: string;
  description?: string;
  tooltip: string;
  /** Selects the node's context actions in package.json (`viewItem == …`). */
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** A codicon name. */
  icon: string;
  /** The file or folder the node stands for (shown with its file icon where that helps, and revealed). */
  resourcePath?: string;
  /** What a click does. */
  command?: { id: string; title: string; args: unknown[] };
}

/** No roots → no nodes, so the view shows its welcome content (package.json viewsWelcome) with the buttons to add one. */
export function rootNodes(roots: readonly RootSpec[], listings: ReadonlyMap<string, DatasetListing>): DatasetNode[] {
  return roots.map((spec) => ({ kind: 'root', id: `root:${spec.path}`, spec, listing: listings.get(spec.path) }));
}

export function childrenOf(node: DatasetNode): DatasetNode[] {
  switch (node.kind) {
    case 'root': {
      const listing = node.listing;
      if (!listing || listing.status !== 'ok') return [];
      if (listing.machines.length === 0)
        return [{ kind: 'hint', id: `${node.id}/empty`, text: 'no machine types with train/ or test/ folders here' }];
      return listing.machines.map((machine) => ({
        kind: 'machine',
        id: `${node.id}/${machine.machineType}`,
        root: node.spec.path,
        machine,
      }));
    }
    case 'machine':
      return (['train', 'test'] as const)
        .map((split) => ({ split, clips: node.machine[split] }))
        .filter((s) => s.clips.length > 0)
        .map(({ split, clips }) => ({
          kind: 'split',
          id: `${node.id}/${split}`,
          root: node.root,
          machineType: node.machine.machineType,
          split,
          clips,
        }));
    case 'split': {
      // Layouts without domains (DCASE 2020) list clips straight under the split.
      if (node.clips.every((c) => c.domain === null)) return node.clips.map((clip) => clipNode(node, clip));
      const out: DatasetNode[] = [];
      for (const domain of ['source', 'target'] as const) {
        const clips = node.clips.filter((c) => c.domain === domain);
        if (clips.length > 0)
          out.push({
            kind: 'domain',
            id: `${node.id}/${domain}`,
            root: node.root,
            machineType: node.machineType,
            split: node.split,
            domain,
            clips,
          });
      }
      const undomained = node.clips.filter((c) => c.domain === null);
      return [...out, ...undomained.map((clip) => clipNode(node, clip))];
    }
    case 'domain':
      return node.clips.map((clip) => clipNode(node, clip));
    case 'clip':
    case 'hint':
      return [];
  }
}

function clipNode(parent: { id: string; root: string; machineType: string }, clip: ClipInfo): DatasetNode {
  return { kind: 'clip', id: `${parent.id}/${clip.name}`, root: parent.root, machineType: parent.machineType, clip };
}

function countLabels(clips: readonly ClipInfo[]): string {
  const normal = clips.filter((c) => c.label === 'normal').length;
  const anomaly = clips.filter((c) => c.label === 'anomaly').length;
  const unlabelled = clips.length - normal - anomaly;
  const parts = [`${clips.length} clip${clips.length === 1 ? '' : 's'}`];
  if (anomaly > 0 || unlabelled > 0) {
    const detail = [
      normal > 0 ? `${normal} normal` : '',
      anomaly > 0 ? `${anomaly} anomalous` : '',
      unlabelled > 0 ? `${unlabelled} unlabelled` : '',
    ].filter(Boolean);
    parts.push(`(${detail.join(', ')})`);
  }
  return parts.join(' ');
}

export function viewOf(node: DatasetNode): NodeView {
  switch (node.kind) {
    case 'hint':
      return { label: node.text, tooltip: node.text, contextValue: 'hint', collapsible: 'none', icon: 'info' };
    case 'root': {
      const origin =
        node.spec.source === 'settings'
          ? 'from the genrep.datasetRoots setting'
          : `named by ${node.spec.origin ?? 'a run config'}`;
      const listing = node.listing;
      const label = path.basename(node.spec.path) || node.spec.path;
      const removable = node.spec.source === 'settings' ? '.removable' : '';
      if (!listing)
        return {
          label,
          description: 'reading…',
          tooltip: `${node.spec.path}\n${origin}`,
          contextValue: `datasetRoot${removable}`,
          collapsible: 'collapsed',
          icon: 'loading~spin',
          resourcePath: node.spec.path,
        };
      if (listing.status !== 'ok') {
        return {
          label,
          description: listing.status === 'missing' ? 'not found' : 'cannot be read',
          tooltip: `${node.spec.path}\n${listing.message}\n${origin}`,
          contextValue: `datasetRootProblem${removable}`,
          collapsible: 'none',
          icon: 'warning',
        };
      }
      const clips = listing.machines.reduce((n, m) => n + m.train.length + m.test.length, 0);
      const skipped =
        listing.skipped.length > 0 ? `\n${listing.skipped.length} file(s) skipped (names fit no layout rule)` : '';
      return {
        label,
        description: `${listing.layout} · ${listing.machines.length} machine type${listing.machines.length === 1 ? '' : 's'}`,
        tooltip: `${node.spec.path}\n${listing.layout} layout, ${clips} clips${skipped}\n${origin}`,
        contextValue: `datasetRoot${removable}`,
        collapsible: 'collapsed',
        icon: 'database',
        resourcePath: node.spec.path,
      };
    }
    case 'machine': {
      const m = node.machine;
      return {
        label: m.machineType,
        description: `${m.train.length} train · ${m.test.length} test`,
        tooltip: `${m.machineType}: ${m.train.length} training and ${m.test.length} test clips; sections ${m.sections.join(', ')}`,
        contextValue: 'machineType',
        collapsible: 'collapsed',
        icon: 'pulse',
      };
    }
    case 'split':
      return {
        label: node.split,
        description: countLabels(node.clips),
        tooltip: `${node.machineType} ${node.split}: ${countLabels(node.clips)}`,
        contextValue: node.split === 'test' ? 'clipGroup.test' : 'clipGroup.train',
        collapsible: 'collapsed',
        icon: node.split === 'train' ? 'book' : 'beaker',
      };
    case 'domain':
      return {
        label: node.domain,
        description: countLabels(node.clips),
        tooltip: `${node.machineType} ${node.split}, ${node.domain} domain: ${countLabels(node.clips)}`,
        contextValue: node.split === 'test' ? 'clipGroup.test' : 'clipGroup.train',
        collapsible: 'collapsed',
        icon: node.domain === 'source' ? 'circle-large-outline' : 'target',
      };
    case 'clip': {
      const c = node.clip;
      const facts = [c.label ?? 'unlabelled', c.domain, `section ${c.section}`].filter((x): x is string => x !== null);
      const attributes = Object.entries(c.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      return {
        label: c.name,
        description: facts.join(' · '),
        tooltip: `${c.path}\n${node.machineType}, ${c.split}, ${facts.join(', ')}${attributes ? `\n${attributes}` : ''}`,
        contextValue: 'clip',
        collapsible: 'none',
        icon: c.label === 'anomaly' ? 'warning' : c.label === 'normal' ? 'pass' : 'question',
        resourcePath: c.path,
        command: { id: 'genrep.playClip', title: 'Play Clip', args: [c.path] },
      };
    }
  }
}

/** The clip paths a node stands for (what "score" acts on): one clip, or every clip of a group. */
export function clipPathsOf(node: DatasetNode): string[] {
  switch (node.kind) {
    case 'clip':
      return [node.clip.path];
    case 'split':
    case 'domain':
      return node.clips.map((c) => c.path);
    case 'machine':
      return node.machine.test.map((c) => c.path);
    case 'root':
    case 'hint':
      return [];
  }
}

/**
 * The roots to show, in order: the setting's (relative ones resolved against the first workspace folder), then
 * those named by workspace run configs, without repeats.
 */
export function collectRoots(
  settingRoots: readonly string[],
  workspaceFolder: string | undefined,
  configRoots: readonly { root: string; config: string }[],
): RootSpec[] {
  const out: RootSpec[] = [];
  const seen = new Set<string>();
  const add = (spec: RootSpec): void => {
    const key = path.resolve(spec.path);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ ...spec, path: key });
  };
  for (const r of settingRoots) {
    if (r.trim() === '') continue;
    if (!path.isAbsolute(r) && workspaceFolder === undefined) continue;
    add({ path: path.isAbsolute(r) ? r : path.join(workspaceFolder!, r), source: 'settings' });
  }
  for (const { root, config } of configRoots)
    add({ path: path.resolve(path.dirname(config), root), source: 'config', origin: config });
  return out;
}
