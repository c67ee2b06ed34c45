import { promises as fsp, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { fileError, GenrepError } from '../errors';
import { isAtomicTemp, removeStaleTemps } from '../io/atomicWrite';
import { tryLock, type HeldLock } from '../io/folderLock';
import { ensureDir, errnoCode, fsError, type FsAction } from '../io/fsErrors';

/**
 * A run's output folder written as one set: everything goes into a fresh hidden sibling (`.<name>.staging.<pid>.<hex>`)
 * and `commit` swaps it in (old folder → `.<name>.old.…`, staging → the folder, old removed), so a reader finds the
 * previous run's complete set or this one's, never a mix, and a failed or cancelled run leaves the old set as it
 * was. A lock file next to the folder (`.<name>.genrep-lock`, holding the pid) keeps two runs from writing the same
 * folder; leftovers of a killed run (staging, a half-done swap, temp files) are cleaned up by the next run.
 *
 * The swap replaces the whole folder, so it refuses a folder holding anything a run did not write.
 */
export class ResultSet {
  private done = false;

  private constructor(
    /** The folder as the user named it (messages and returned paths use this). */
    readonly outputDir: string,
    /** Where the swap happens: outputDir with a symbolic link to a folder resolved. */
    private readonly target: string,
    /** Write the set here. */
    readonly dir: string,
    private readonly lock: HeldLock,
  ) {}

  static async open(outputDir: string): Promise<ResultSet> {
    let target = path.resolve(outputDir);
    if (path.dirname(target) === target) {
      throw fileError(outputDir, 'is the filesystem root; choose a folder for the results', 'BAD_INPUT', {
        expected: 'a folder',
      });
    }
    try {
      await ensureDir(path.dirname(target));
    } catch (err) {
      throw cannotWrite(outputDir, err, path.dirname(target), 'create');
    }
    const link = await lstatOrUndefined(target, outputDir);
    if (link?.isSymbolicLink()) {
      try {
        target = await fsp.realpath(target);
      } catch (err) {
        throw fsError(err, outputDir, { action: 'open', expected: 'a folder' });
      }
    }
    const existing = link?.isSymbolicLink() ? await lstatOrUndefined(target, outputDir) : link;
    if (existing && !existing.isDirectory()) throw notAFolder(outputDir);

    const parent = path.dirname(target);
    const name = path.basename(target);
    const lockFile = path.join(parent, `.${name}.genrep-lock`);
    let lock;
    try {
      lock = await tryLock(lockFile);
    } catch (err) {
      throw cannotWrite(outputDir, err, parent, 'write');
    }
    if (!('release' in lock)) {
      const { pid, host, startedAt } = lock.heldBy;
      const who =
        pid > 0 ? `pid ${pid}${host ? ` on ${host}` : ''}${startedAt ? `, started ${startedAt}` : ''}` : 'unknown';
      throw new GenrepError(
        `${outputDir}: another run (${who}) is writing results here; ` +
          'wait for it to finish or choose another output folder ' +
          `(if no such run is going on, delete ${lockFile})`,
        'BAD_INPUT',
        { file: outputDir },
      );
    }
    try {
      await recoverLeftovers(parent, name, target);
      const current = await lstatOrUndefined(target, outputDir);
      if (current) {
        await refuseForeignFiles(target, outputDir);
        await removeStaleTemps(target);
        const parentStats = await fsp.stat(parent);
        if (current.dev !== parentStats.dev) {
          const problem = 'is a mount point; a run swaps in a whole new folder, so choose a folder inside it';
          throw fileError(outputDir, problem, 'BAD_INPUT', { expected: 'a folder that is not a mount point' });
        }
      }
      const staging = path.join(parent, `.${name}.staging.${process.pid}.${randomBytes(6).toString('hex')}`);
      try {
        await fsp.mkdir(staging);
      } catch (err) {
        throw cannotWrite(outputDir, err, parent, 'create');
      }
      return new ResultSet(outputDir, target, staging, lock);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Swaps the written set in; on failure the old set is back in place (the caller then calls abort). */
  async commit(): Promise<void> {
    if (this.done) throw new GenrepError(`${this.outputDir}: result set already committed or abandoned`, 'INTERNAL');
    const parent = path.dirname(this.target);
    const name = path.basename(this.target);
    const existing = await lstatOrUndefined(this.target, this.outputDir);
    let backup: string | undefined;
    if (existing) {
      if (!existing.isDirectory()) throw notAFolder(this.outputDir);
      // Files may have been put there while the run computed.
      await refuseForeignFiles(this.target, this.outputDir);
      await fsp.chmod(this.dir, existing.mode & 0o7777).catch(() => undefined);
      backup = path.join(parent, `.${name}.old.${process.pid}.${randomBytes(6).toString('hex')}`);
      try {
        await fsp.rename(this.target, backup);
      } catch (err) {
        throw cannotWrite(this.outputDir, err, this.target, 'write');
      }
    }
    try {
      await fsp.rename(this.dir, this.target);
    } catch (err) {
      if (backup) await fsp.rename(backup, this.target).catch(() => undefined);
      throw cannotWrite(this.outputDir, err, this.target, 'write');
    }
    this.done = true;
    if (backup) await fsp.rm(backup, { recursive: true, force: true }).catch(() => undefined);
    await this.lock.release();
  }

  /**
   * An error about a file in the staging folder, told about the output folder instead: the user never named the
   * hidden staging folder, and it is gone by the time they read the message.
   */
  inUserTerms(err: unknown): unknown {
    if (!(err instanceof GenrepError) || !err.message.includes(this.dir)) return err;
    const swap = (text: string): string => text.split(this.dir).join(this.outputDir);
    const data = err.data.file !== undefined ? { ...err.data, file: swap(err.data.file) } : err.data;
    return new GenrepError(swap(err.message), err.code, data);
  }

  /** Removes the staging folder and lets go of the lock; the old set is untouched. Safe to call after commit. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await fsp.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    await this.lock.release();
  }
}

/** File names `genrep run` writes into its output folder (the submission files per machine type and section). */
const RUN_OUTPUT = [
  /^results\.json$/,
  /^report\.html$/,
  /^anomaly_score_.+_section_.+_test\.csv$/,
  /^decision_result_.+_section_.+_test\.csv$/,
];
/** Written by file browsers into any folder a person looks at; losing them costs nothing. */
const OS_METADATA = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

/**
 * Refuses a folder holding anything but a run's own files: the names a run writes, those its results.json lists,
 * writeFileAtomic's temp files and file-browser metadata. The swap would delete everything else.
 */
async function refuseForeignFiles(dir: string, shown: string): Promise<void> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw fsError(err, shown, { action: 'read', expected: 'a folder' });
  }
  const listed = await listedOutputs(path.join(dir, 'results.json'));
  const foreign = entries
    .filter((e) => {
      if (!e.isFile()) return true;
      return !(
        RUN_OUTPUT.some((re) => re.test(e.name)) ||
        listed.has(e.name) ||
        isAtomicTemp(e.name) ||
        OS_METADATA.has(e.name)
      );
    })
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort();
  if (foreign.length === 0) return;
  const named = foreign
    .slice(0, 3)
    .map((n) => JSON.stringify(n))
    .join(', ');
  const more = foreign.length > 3 ? ` and ${foreign.length - 3} more` : '';
  throw fileError(
    shown,
    `holds files that genrep run did not write (${named}${more}); ` +
      'a run replaces the whole output folder, so choose a new ' +
      'or empty folder, or move those files away',
    'BAD_INPUT',
    { expected: 'a new, empty or genrep results folder' },
  );
}

/** The `outputs` of an earlier run's results.json, so files a newer version added still count as ours. */
async function listedOutputs(resultsFile: string): Promise<Set<string>> {
  try {
    const parsed = JSON.parse(await fsp.readFile(resultsFile, 'utf8')) as { outputs?: unknown };
    if (Array.isArray(parsed.outputs)) {
      return new Set(
        parsed.outputs.filter((o): o is string => typeof o === 'string' && !o.includes('/') && !o.includes('\\')),
      );
    }
  } catch {
    // no results.json, or not ours: only the fixed names count
  }
  return new Set();
}

/**
 * Under the lock no other run is writing here, so every staging folder is a killed run's and is removed; a backup
 * of the old set is put back if a swap was cut off between its two renames (the folder is missing), else removed.
 */
async function recoverLeftovers(parent: string, name: string, target: string): Promise<void> {
  const pattern = new RegExp(`^\\.${escapeRegExp(name)}\\.(staging|old)\\.\\d+\\.[0-9a-f]{12}$`);
  let entries: string[];
  try {
    entries = await fsp.readdir(parent);
  } catch {
    return;
  }
  const leftovers = entries.filter((e) => pattern.test(e));
  for (const entry of leftovers) {
    const full = path.join(parent, entry);
    if (entry.startsWith(`.${name}.old.`) && !(await exists(target))) {
      await fsp.rename(full, target).catch(() => undefined);
      continue;
    }
    await fsp.rm(full, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function lstatOrUndefined(file: string, shown: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsError(err, shown, { action: 'open', expected: 'a folder' });
  }
}

async function exists(file: string): Promise<boolean> {
  return (await fsp.lstat(file).catch(() => undefined)) !== undefined;
}

function notAFolder(shown: string): GenrepError {
  const problem =
    'already exists and is not a folder; the output is the folder that receives results.json, report.html ' +
    'and the submission files';
  return fileError(shown, problem, 'BAD_INPUT', { expected: 'a folder' });
}

/**
 * `<output>: cannot write results there: <where>: <problem>`. The system error's own path would name our lock or
 * staging folder, which the user never asked for, so `where` (a folder they know) is named instead.
 */
function cannotWrite(shown: string, err: unknown, where: string, action: FsAction): GenrepError {
  const pathless = Object.assign(new Error(err instanceof Error ? err.message : String(err)), { code: errnoCode(err) });
  const cause = err instanceof GenrepError ? err : fsError(pathless, where, { action });
  return new GenrepError(`${shown}: cannot write results there: ${cause.message}`, cause.code, {
    ...cause.data,
    file: shown,
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
