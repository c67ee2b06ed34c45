/**
 * The per-file table's keyboard (the ARIA grid pattern, row by row): one Tab stop, arrows and paging move the focus,
 * Enter or Space opens the focused clip. Pure: which row a key leads to, so it is tested without a browser.
 */
export type GridKeyOutcome = { kind: 'focus'; index: number } | { kind: 'open'; index: number };

/** Rows moved by Page Up / Page Down. */
export const GRID_PAGE_ROWS = 10;

export function gridKey(
  key: string,
  index: number,
  count: number,
  pageRows = GRID_PAGE_ROWS,
): GridKeyOutcome | undefined {
  if (count <= 0) return undefined;
  const clamp = (i: number): number => Math.min(count - 1, Math.max(0, i));
  const focus = (i: number): GridKeyOutcome => ({ kind: 'focus', index: clamp(i) });
  switch (key) {
    case 'ArrowDown':
      return focus(index + 1);
    case 'ArrowUp':
      return focus(index - 1);
    case 'Home':
      return focus(0);
    case 'End':
      return focus(count - 1);
    case 'PageDown':
      return focus(index + pageRows);
    case 'PageUp':
      return focus(index - pageRows);
    case 'Enter':
    case ' ':
      return { kind: 'open', index: clamp(index) };
    default:
      return undefined;
  }
}
