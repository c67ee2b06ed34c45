import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import type { Position, Range } from '../protocol/positions';
import { pointerSegments } from '../util/jsonPointer';

/**
 * JSON pointers → text ranges in a JSON-with-comments document, for diagnostics and error locations. Offsets are
 * UTF-16 code units, which is what both jsonc-parser and LSP positions count.
 */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  position(offset: number): Position {
    // Binary search: 0 <= lo <= mid <= hi < starts.length, and starts is never empty (it holds 0).
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo]! };
  }

  range(offset: number, length: number): Range {
    return { start: this.position(offset), end: this.position(offset + length) };
  }
}

/**
 * The node a pointer names, or with `atKey` its property's key (where an unknown key is reported). A pointer into
 * something absent falls back to the deepest node that exists, so every error still lands somewhere sensible.
 */
export function nodeAtPointer(tree: Node, pointer: string, atKey = false): Node {
  const segments = pointerSegments(pointer);
  for (let n = segments.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, segments.slice(0, n));
    if (node) {
      if (atKey && n === segments.length && node.parent?.type === 'property') return node.parent.children?.[0] ?? node;
      return node;
    }
  }
  return tree;
}

/** The range of the value at `pointer` in `text`, or undefined when the text is not JSON at all. */
export function rangeOfPointer(text: string, pointer: string, atKey = false): Range | undefined {
  const tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!tree) return undefined;
  const node = nodeAtPointer(tree, pointer, atKey);
  return new LineIndex(text).range(node.offset, node.length);
}
