/**
 * The per-file tables' sorting, pure: a column, a direction, nulls last whatever the direction, ties kept in
 * their original (dataset) order so a re-sort never shuffles equal rows.
 */
export type SortDirection = 'asc' | 'desc';

export interface SortSpec<K extends string = string> {
  column: K;
  direction: SortDirection;
}

type Cell = string | number | null | undefined;

export function sortRows<R, K extends string>(
  rows: readonly R[],
  spec: SortSpec<K>,
  cell: (row: R, column: K) => Cell,
): R[] {
  const sign = spec.direction === 'asc' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: cell(row, spec.column) }))
    .sort((a, b) => {
      const av = a.value;
      const bv = b.value;
      const aMissing = av === null || av === undefined || (typeof av === 'number' && Number.isNaN(av));
      const bMissing = bv === null || bv === undefined || (typeof bv === 'number' && Number.isNaN(bv));
      if (aMissing || bMissing) return aMissing === bMissing ? a.index - b.index : aMissing ? 1 : -1;
      const order =
        typeof av === 'number' && typeof bv === 'number'
          ? av - bv
          : String(av).localeCompare(String(bv), undefined, { numeric: true });
      return order !== 0 ? sign * order : a.index - b.index;
    })
    .map((x) => x.row);
}

/** Clicking a header: the same column flips direction; a new column starts descending for scores, ascending otherwise. */
export function nextSort<K extends string>(current: SortSpec<K> | undefined, column: K, numeric: boolean): SortSpec<K> {
  if (current && current.column === column) return { column, direction: current.direction === 'asc' ? 'desc' : 'asc' };
  return { column, direction: numeric ? 'desc' : 'asc' };
}
