import type { MachineSet } from '../datasets';
import { GenrepError } from '../errors';
import type { CellResult } from './scoreMachineLayer';
import { variantId, type Variant } from './variants';

/** Where one cell of the experiment grid sits: machine type × layer × variant × low-shot seed (null: all clips). */
export interface CellKey {
  machineType: string;
  layer: number;
  variant: Variant;
  seed: number | null;
}

/** The grid's axes, each in the order the run scores and reports them. */
export interface GridAxes {
  /** The dataset's machine types, with only the clips whose features were extracted. */
  machines: MachineSet[];
  /** Ascending. */
  layers: number[];
  /** The main variant first. */
  variants: Variant[];
  /** The low-shot seeds in config order, or [null] for a run on all training clips. */
  seeds: (number | null)[];
}

/** Every scored cell, by its key. */
export class CellGrid {
  private readonly cells = new Map<string, CellResult>();

  constructor(readonly axes: GridAxes) {}

  set(key: CellKey, result: CellResult): void {
    this.cells.set(keyText(key), result);
  }

  /** A cell the grid must hold: scoreGrid fills every key of the axes, so a missing one is a bug. */
  get(key: CellKey): CellResult {
    const cell = this.cells.get(keyText(key));
    if (cell === undefined) throw new GenrepError(`experiment grid: no cell ${keyText(key)}`, 'INTERNAL');
    return cell;
  }

  /** A (machine type, layer, variant)'s cells in seed order. */
  overSeeds(key: Omit<CellKey, 'seed'>): CellResult[] {
    return this.axes.seeds.map((seed) => this.get({ ...key, seed }));
  }
}

function keyText(key: CellKey): string {
  return JSON.stringify([key.machineType, key.layer, variantId(key.variant), key.seed]);
}
