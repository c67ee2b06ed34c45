/**
 * Which pooling each embedder honours, in one table, and the one refusal for the others. What the poolings mean
 * (means over a [time patches × frequency patches × channels] token grid) is the vocabulary's
 * (protocol/vocabulary.ts); how wide each one is, is the BEATs graph's (beats/graph.ts `beatsOutputDim`), the only
 * embedder here with a token grid to pool.
 */

import { fileError, GenrepError } from '../errors';
import { POOLINGS, type Pooling } from '../protocol/vocabulary';
import type { EmbedderSpec } from './types';

export type { Pooling } from '../protocol/vocabulary';
export { POOLINGS } from '../protocol/vocabulary';

export type EmbedderKind = EmbedderSpec['kind'];

/** The poolings each kind of embedder can produce. */
export const EMBEDDER_POOLINGS: Readonly<Record<EmbedderKind, readonly Pooling[]>> = {
  // The converted graph pools its own hidden states, whichever way it is asked.
  beats: POOLINGS,
  // At most these: a graph from `genrep model convert` offers only the pooling it was converted with, which the
  // embedder reads from its output names.
  'beats-onnx': POOLINGS,
  // Statistics over the frames: a summary over time by construction.
  'fbank-stats': ['temporal'],
  // The encoder returns [batch, dim] vectors it pooled itself; 'temporal', the default, stands for "as the encoder
  // pools", and asking for another cannot change what it returns.
  onnx: ['temporal'],
  // Token grids pool every way; sequences and vectors refuse 'spectral' (outputPooling.ts poolingMisfit).
  encoder: POOLINGS,
};

export function isPooling(value: string): value is Pooling {
  return (POOLINGS as readonly string[]).includes(value);
}

export interface PoolingRefusal {
  /** The embedder as the message names it ("fbank-stats", "this ONNX encoder"). */
  subject: string;
  /** Why it offers only what it offers, as a clause ("whose statistics are over time"). */
  why: string;
  /** The model file, when there is one: the message starts with it. */
  file?: string;
  code?: 'BAD_INPUT' | 'UNSUPPORTED';
}

/** Refuses a pooling that EMBEDDER_POOLINGS does not list for `kind`, naming it and what the embedder supports. */
export function checkPooling(kind: EmbedderKind, pooling: Pooling, refusal: PoolingRefusal): void {
  const supported = EMBEDDER_POOLINGS[kind];
  if (supported.includes(pooling)) return;
  const problem =
    `pooling '${pooling}' does not apply to ${refusal.subject}, ${refusal.why}; ` +
    `use ${supported.map((p) => `'${p}'`).join(' or ')}`;
  const code = refusal.code ?? 'BAD_INPUT';
  const extra = { field: 'pooling', expected: supported.join(' | ') };
  throw refusal.file === undefined
    ? new GenrepError(problem, code, extra)
    : fileError(refusal.file, problem, code, extra);
}
