import { GenrepError } from '../errors';

/**
 * One share of a run's clips for `genrep run --shard i/n` (docs/scale.md): shard `index` of `count`, 0-based like
 * Kubernetes' JOB_COMPLETION_INDEX. A clip belongs to the shard its content hash names, so the split needs no
 * coordination between machines, does not depend on file names or listing order, and a clip copied twice into the
 * dataset is extracted by one shard only.
 */
export interface Shard {
  index: number;
  count: number;
}

/** The shard of a clip whose sha256 (hex) is `contentHash`: its first 48 bits modulo the count. */
export function shardOfHash(contentHash: string, count: number): number {
  return Number.parseInt(contentHash.slice(0, 12), 16) % count;
}

export function inShard(contentHash: string, shard: Shard): boolean {
  return shardOfHash(contentHash, shard.count) === shard.index;
}

/** What the CLI was given: `--shard i/n`, bare `--shard` (read the scheduler's variables), `--shard-count n`. */
export interface ShardRequest {
  /** `i/n`, or true for a bare `--shard`; undefined when the flag is absent. */
  shard: string | true | undefined;
  shardCount: string | undefined;
}

/**
 * The shard to extract, or undefined for a whole run. The scheduler's variables are read only when `--shard` is
 * given without a value, so a plain `genrep run` inside an unrelated array job (one config per task) is never split.
 * An explicit `i/n` wins over the environment; a count that disagrees with it, or variables that disagree with each
 * other, are refused rather than guessed between.
 */
export function resolveShard(request: ShardRequest, env: NodeJS.ProcessEnv): Shard | undefined {
  const declared =
    optionalCount(request.shardCount, '--shard-count') ??
    optionalCount(env['GENREP_SHARD_COUNT'], 'GENREP_SHARD_COUNT');
  if (request.shard === undefined) {
    if (request.shardCount !== undefined) {
      throw bad('--shard-count is given without --shard; add --shard i/n, or a bare --shard to read the scheduler');
    }
    return undefined;
  }
  if (request.shard !== true) {
    const shard = parseShard(request.shard, '--shard');
    if (declared !== undefined && declared !== shard.count) {
      throw bad(`--shard ${request.shard} names ${shard.count} shards but the declared count is ${declared}`);
    }
    return shard;
  }
  const slurm = slurmShard(env);
  const k8s = env['JOB_COMPLETION_INDEX'];
  if (slurm && k8s !== undefined) {
    throw bad(
      `both SLURM_ARRAY_TASK_ID (${env['SLURM_ARRAY_TASK_ID']}) and JOB_COMPLETION_INDEX (${k8s}) are set; pass --shard i/n`,
    );
  }
  if (slurm) {
    if (declared !== undefined && declared !== slurm.count) {
      throw bad(`SLURM_ARRAY_TASK_COUNT is ${slurm.count} but the declared shard count is ${declared}`);
    }
    return slurm;
  }
  if (k8s !== undefined) {
    const index = nonNegativeInteger(k8s, 'JOB_COMPLETION_INDEX');
    if (declared === undefined) {
      throw bad(
        `JOB_COMPLETION_INDEX=${k8s} is set but not the number of shards: pass --shard-count n or set GENREP_SHARD_COUNT (the Job's completions)`,
      );
    }
    return checked({ index, count: declared }, `JOB_COMPLETION_INDEX=${k8s} with ${declared} shards`);
  }
  throw bad(
    'a bare --shard reads SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX, and neither is set; pass --shard i/n',
  );
}

/** `i/n` with 0 ≤ i < n. */
export function parseShard(text: string, what: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw bad(`${what} ${text}: expected i/n (shard i of n, 0-based: 0/3, 1/3, 2/3)`);
  return checked({ index: Number(match[1]), count: Number(match[2]) }, `${what} ${text}`);
}

/** Slurm numbers array tasks from the array's first id (`--array=1-3` gives 1, 2, 3), hence SLURM_ARRAY_TASK_MIN. */
function slurmShard(env: NodeJS.ProcessEnv): Shard | undefined {
  const id = env['SLURM_ARRAY_TASK_ID'];
  if (id === undefined) return undefined;
  const countText = env['SLURM_ARRAY_TASK_COUNT'];
  if (countText === undefined) throw bad(`SLURM_ARRAY_TASK_ID=${id} is set but SLURM_ARRAY_TASK_COUNT is not`);
  const count = positiveInteger(countText, 'SLURM_ARRAY_TASK_COUNT');
  const min =
    env['SLURM_ARRAY_TASK_MIN'] === undefined
      ? 0
      : nonNegativeInteger(env['SLURM_ARRAY_TASK_MIN'], 'SLURM_ARRAY_TASK_MIN');
  const index = nonNegativeInteger(id, 'SLURM_ARRAY_TASK_ID') - min;
  return checked(
    { index, count },
    `SLURM_ARRAY_TASK_ID=${id} with SLURM_ARRAY_TASK_MIN=${min} and SLURM_ARRAY_TASK_COUNT=${count} (an array with gaps or a step, like --array=0-10:2, cannot be mapped to shards; use --array=0-<n-1>)`,
  );
}

function checked(shard: Shard, what: string): Shard {
  if (shard.count < 1) throw bad(`${what}: the number of shards must be at least 1`);
  if (shard.index < 0 || shard.index >= shard.count) {
    throw bad(`${what}: shard ${shard.index} is outside 0..${shard.count - 1} (shards are numbered from 0)`);
  }
  return shard;
}

function optionalCount(text: string | undefined, what: string): number | undefined {
  return text === undefined || text === '' ? undefined : positiveInteger(text, what);
}

function positiveInteger(text: string, what: string): number {
  const n = nonNegativeInteger(text, what);
  if (n < 1) throw bad(`${what}=${text}: expected a whole number of at least 1`);
  return n;
}

function nonNegativeInteger(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw bad(`${what}=${text}: expected a whole number`);
  return Number(text.trim());
}

function bad(message: string): GenrepError {
  return new GenrepError(`shard: ${message}`, 'BAD_INPUT');
}
