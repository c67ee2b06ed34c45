import { findNodeAtLocation, modify, parseTree, type Node } from 'jsonc-parser';
import type { ConfigDiagnostic, ConfigFix } from '../../worker/src/protocol/workerProtocol';

/**
 * What a quick fix of a run-config diagnostic does, computed without vscode so it can be tested: text edits (offset,
 * length, new text, as jsonc-parser gives them) and a folder to create. configQuickFixes.ts turns these into a
 * CodeAction. Edits keep comments and the file's layout: only the value or key named changes.
 */
export interface TextEditPlan {
  offset: number;
  length: number;
  content: string;
}

export interface FixPlan {
  title: string;
  edits: TextEditPlan[];
  createFolder?: string;
}

/** The edits of one fix on `text`, or undefined where the text no longer has what the fix names. */
export function planFix(text: string, fix: ConfigFix): FixPlan | undefined {
  const plan: FixPlan = { title: fix.title, edits: [] };
  if (fix.createFolder !== undefined) plan.createFolder = fix.createFolder;
  if (fix.pointer !== undefined && fix.renameKeyTo !== undefined) {
    const tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
    const key = tree ? keyNode(tree, fix.pointer) : undefined;
    if (!key) return undefined;
    plan.edits.push({ offset: key.offset, length: key.length, content: JSON.stringify(fix.renameKeyTo) });
  } else if (fix.pointer !== undefined && fix.value !== undefined) {
    const edits = modify(text, pointerPath(fix.pointer), fix.value, {
      formattingOptions: { insertSpaces: true, tabSize: 2, eol: text.includes('\r\n') ? '\r\n' : '\n' },
    });
    plan.edits.push(...edits);
  }
  return plan.edits.length > 0 || plan.createFolder !== undefined ? plan : undefined;
}

/** The fixes a document's diagnostics offer, in their order (one per diagnostic that has one). */
export function fixesOf(diagnostics: readonly ConfigDiagnostic[]): { diagnostic: ConfigDiagnostic; fix: ConfigFix }[] {
  return diagnostics.flatMap((diagnostic) => (diagnostic.fix ? [{ diagnostic, fix: diagnostic.fix }] : []));
}

/** `text` with a plan's edits applied (last first, so earlier offsets stay valid); for tests and previews. */
export function applyPlan(text: string, plan: FixPlan): string {
  return [...plan.edits]
    .sort((a, b) => b.offset - a.offset)
    .reduce((t, e) => t.slice(0, e.offset) + e.content + t.slice(e.offset + e.length), text);
}

function keyNode(tree: Node, pointer: string): Node | undefined {
  const node = findNodeAtLocation(tree, pointerPath(pointer));
  const property = node?.parent;
  return property?.type === 'property' ? property.children?.[0] : undefined;
}

function pointerPath(pointer: string): (string | number)[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
