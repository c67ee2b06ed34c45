// @ts-check
// Folder-level import cycles in worker/src. import-x/no-cycle sees modules; a cycle between folders (scoring
// imports metrics, metrics imports scoring) passes it module by module, yet it means neither folder can be
// understood, tested or moved without the other. Each folder directly under worker/src is a node (a file directly
// under it is a node of its own); an import from folder A to folder B is reported when B already reaches A.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/** @typedef {Map<string, Map<string, string>>} FolderGraph node → (node it imports → one file that does it) */

/** @type {Map<string, FolderGraph>} one graph per worker/src root per lint process */
const graphs = new Map();

/** @param {string} dir @returns {string[]} */
function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The node a file belongs to: its first folder under the root, or the file's own name when it sits in the root. */
function nodeOf(/** @type {string} */ root, /** @type {string} */ file) {
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [first, ...rest] = rel.split(path.sep);
  return rest.length === 0 ? first?.replace(/\.ts$/, '') : first;
}

function resolveImport(/** @type {string} */ from, /** @type {string} */ specifier) {
  if (!specifier.startsWith('.')) return undefined;
  return path.resolve(path.dirname(from), specifier);
}

/** @param {string} root @returns {FolderGraph} */
function buildGraph(root) {
  /** @type {FolderGraph} */
  const graph = new Map();
  for (const file of tsFiles(root)) {
    const from = nodeOf(root, file);
    if (!from) continue;
    const edges = graph.get(from) ?? new Map();
    graph.set(from, edges);
    for (const imported of ts.preProcessFile(readFileSync(file, 'utf8'), true, false).importedFiles) {
      const target = resolveImport(file, imported.fileName);
      const to = target && nodeOf(root, target.endsWith('.ts') ? target : `${target}.ts`);
      if (to && to !== from && !edges.has(to)) edges.set(to, path.relative(root, file));
    }
  }
  return graph;
}

/** A path of nodes from `start` to `goal` through the graph, or undefined. */
function findPath(/** @type {FolderGraph} */ graph, /** @type {string} */ start, /** @type {string} */ goal) {
  /** @type {Map<string, string | undefined>} */
  const cameFrom = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = /** @type {string} */ (queue.shift());
    if (node === goal) {
      const route = [];
      for (let n = /** @type {string | undefined} */ (goal); n !== undefined; n = cameFrom.get(n)) route.unshift(n);
      return route;
    }
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'No import cycles between the folders of worker/src' },
    schema: [],
    messages: {
      cycle: 'Folder cycle: {{route}} ({{back}}). Move the shared piece down into a folder both can import.',
    },
  },
  create(context) {
    const file = context.filename;
    const marker = `${path.sep}worker${path.sep}src${path.sep}`;
    const at = file.indexOf(marker);
    if (at < 0) return {};
    const root = file.slice(0, at + marker.length - 1);
    let graph = graphs.get(root);
    if (!graph) {
      graph = buildGraph(root);
      graphs.set(root, graph);
    }
    const from = nodeOf(root, file);
    if (!from) return {};
    const check = (/** @type {import('estree').Node} */ node, /** @type {unknown} */ source) => {
      if (typeof source !== 'string') return;
      const target = resolveImport(file, source);
      const to = target && nodeOf(root, target.endsWith('.ts') ? target : `${target}.ts`);
      if (!to || to === from || !graph) return;
      const back = findPath(graph, to, from);
      if (!back) return;
      // One importing file per step back, so the message says where the cycle closes, not only that it does.
      const steps = back.slice(0, -1).map((n, i) => {
        const next = back[i + 1] ?? '';
        return `${graph?.get(n)?.get(next) ?? n} imports ${next}`;
      });
      context.report({
        node,
        messageId: 'cycle',
        data: { route: [from, ...back].join(' → '), back: steps.join('; ') },
      });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
    };
  },
};

export default rule;
