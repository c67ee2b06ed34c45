import type { LoadedConfig } from '../config/loadConfig';
import { GenrepError } from '../errors';

/** A folder the config names cannot be used: said at the config's field, so the editor can jump there. */
export function atConfigField(err: unknown, loaded: LoadedConfig, field: string): unknown {
  if (!(err instanceof GenrepError)) return err;
  return new GenrepError(`${loaded.locate(field)}: ${field}: ${err.message}`, err.code, {
    ...err.data,
    file: loaded.file,
    field,
  });
}
