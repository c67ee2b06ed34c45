import type { ConfigDiagnostic } from '../../worker/src/protocol/workerProtocol';

/**
 * Which of the worker's diagnostics the editor publishes for a run config: all of them, errors as errors — except
 * JSON syntax errors while VS Code's own JSON service is on. That service validates *.genrep.json only against a
 * completion schema with no validation keywords (schemas/run-config.completion.schema.json), but it always reports
 * syntax errors, and from the same parser (jsonc-parser) at the same places; publishing the worker's too would say
 * each of them twice.
 */
export function shownDiagnostics(diagnostics: readonly ConfigDiagnostic[], jsonServiceOn: boolean): ConfigDiagnostic[] {
  return jsonServiceOn ? diagnostics.filter((d) => d.code !== 'parse') : [...diagnostics];
}

/** How long typing must pause before a run config is validated again. */
export const VALIDATE_DELAY_MS = 400;

/**
 * Results arrive out of order when a slow validation (a large dataset's first walk) is overtaken by a newer one:
 * a result is published only if it is for the document's newest version asked about.
 */
export class LatestVersions {
  private readonly asked = new Map<string, number>();

  /** Records a request for `version` of the document `key`. */
  ask(key: string, version: number): void {
    this.asked.set(key, Math.max(version, this.asked.get(key) ?? -1));
  }

  /** Whether a result for `version` is still the newest one asked about (and the document is still open). */
  isCurrent(key: string, version: number): boolean {
    return this.asked.get(key) === version;
  }

  forget(key: string): void {
    this.asked.delete(key);
  }
}
