import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { fileError, GenrepError } from '../errors';

export type Device = 'auto' | 'cpu' | 'cuda';

export interface SessionOptions {
  /** Intra-op threads (one operator split across cores); defaults to the number of cores. */
  threads?: number;
  device?: Device;
}

export interface OpenSession {
  session: ort.InferenceSession;
  /** The execution provider the session was created with. */
  provider: 'cpu' | 'cuda';
}

/**
 * onnxruntime-node ships the CUDA provider as a separate shared library that its install script downloads only on
 * request. Looking for the file first avoids a failed attempt, which ONNX Runtime reports on stderr even when the
 * CPU fallback then succeeds.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const pkgDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(path.join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch, lib));
  } catch {
    return false;
  }
}

function cpuOptions(threads: number | undefined): ort.InferenceSession.SessionOptions {
  const intra = threads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  if (!Number.isInteger(intra) || intra < 1)
    throw new GenrepError(`threads must be a positive integer, got ${threads}`, 'BAD_INPUT', { field: 'threads' });
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: intra,
    // The graphs are chains of large operators; parallelism inside an operator is what pays, not between them.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Spinning workers win a few percent on an idle machine but lose 2-3× when another process (the editor, a
    // second job) holds a core: a spinning thread burns the timeslice its partner needs.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    // Failures reach the caller as exceptions with the same text; ONNX Runtime would also print them to stderr.
    logSeverityLevel: 4,
  };
}

/**
 * Creates a session on CUDA where the user's onnxruntime install provides it, otherwise (or when CUDA fails to
 * initialise) on the CPU. `model` is a path or the serialized bytes.
 */
export async function openSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<OpenSession> {
  // The process-wide logger (read when the first session is created) would print provider-loading failures that
  // the fallback below handles; every real failure reaches the caller as an exception with the same text.
  ort.env.logLevel = 'fatal';
  const base = cpuOptions(options.threads);
  const device = options.device ?? 'auto';
  const label = typeof model === 'string' ? model : '<in-memory ONNX model>';
  const create = async (providers: string[]) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, { ...base, executionProviders: providers })
      : ort.InferenceSession.create(model, { ...base, executionProviders: providers });

  if (device === 'cuda' || (device === 'auto' && cudaProviderInstalled())) {
    try {
      return { session: await create(['cuda', 'cpu']), provider: 'cuda' };
    } catch (err) {
      if (device === 'cuda') {
        throw new GenrepError(`CUDA execution provider unavailable: ${(err as Error).message}`, 'UNSUPPORTED', {
          expected: 'onnxruntime-node installed with CUDA support',
        });
      }
    }
  }
  try {
    return { session: await create(['cpu']), provider: 'cpu' };
  } catch (err) {
    const message = (err as Error).message;
    if (typeof model === 'string' && !existsSync(model)) throw fileError(model, 'no such file', 'NOT_FOUND');
    throw fileError(label, `ONNX Runtime cannot load this model: ${message}`, 'BAD_INPUT', {
      expected: 'a valid ONNX model',
    });
  }
}

export function tensorMeta(
  session: ort.InferenceSession,
  name: string,
  which: 'input' | 'output',
): ort.InferenceSession.ValueMetadata | undefined {
  const list = which === 'input' ? session.inputMetadata : session.outputMetadata;
  return list.find((m) => m.name === name);
}

export { ort };
