import type { MachineModel } from '../model';
import { bearing } from './bearing';
import { fan } from './fan';
import { gearbox } from './gearbox';
import { motor } from './motor';
import { pump } from './pump';

/** The synthetic machine types, in the order `genrep synth` generates them. */
export const MACHINE_MODELS: readonly MachineModel[] = [fan, pump, gearbox, bearing, motor];

export function machineModel(name: string): MachineModel | undefined {
  return MACHINE_MODELS.find((m) => m.name === name);
}
