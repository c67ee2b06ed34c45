#!/usr/bin/env python3
"""The scoring arithmetic of bench/score.bench.ts in NumPy, for comparison (run by `npm run bench:score`).

One DCASE-sized machine: per layer, source bank S (990 rows), target bank T (10 rows) + MemMixup (K_s rows per
target), kNN distances of 200 test clips, transductive DN. Two variants:
  reference  what the GenRep code does: materialise the augmented target bank, then distances to every row
             (float64, ||x||^2 + ||y||^2 - 2 x.y through BLAS);
  expanded   the same expansion as the TypeScript code: distances to augmented rows from Gram blocks already
             computed (y.S, y.T, T.S), nothing materialised.
Prints one JSON line: {"variant", "seconds", "cpu_seconds", "peak_rss_mb", "layers", "check"?} (cpu_seconds: user +
system time of all threads, BLAS's included, over the timed section).
With --check-dir DIR (holding train.npy and test.npy of one layer) it also scores those and puts the scores in
"check", so the TypeScript bench can compare the two implementations on the same features.
"""
import argparse
import json
import os
import resource
import time

import numpy as np


def knn_mean(d2, kn):
    d = np.sqrt(np.maximum(d2, 0.0))
    if kn == 1:
        return d.min(axis=1)
    return np.partition(d, kn - 1, axis=1)[:, :kn].mean(axis=1)


def sq_norms(A):
    """||a||^2 of every row of A."""
    return (A * A).sum(1)


def float64_rows(train, test, n_source):
    """The training rows X and test rows Y in float64, and X's source bank S and target rows T."""
    X = train.astype(np.float64)
    Y = test.astype(np.float64)
    return X, Y, X[:n_source], X[n_source:]


def mixup_neighbours(T, S, ks):
    tn = sq_norms(T)
    sn = sq_norms(S)
    ts = T @ S.T
    d2 = tn[:, None] + sn[None, :] - 2 * ts
    idx = np.argsort(d2, axis=1, kind="stable")[:, :ks]
    return idx, ts


def score_reference(train, test, n_source, ks, kn, lam):
    X, Y, S, T = float64_rows(train, test, n_source)
    yn = sq_norms(Y)
    if ks > 0:
        idx, _ = mixup_neighbours(T, S, ks)
        aug = lam * T[:, None, :] + (1 - lam) * S[idx]
        bank_t = np.concatenate([T, aug.reshape(-1, X.shape[1])])
        del aug
    else:
        bank_t = T
    d_s = knn_mean(yn[:, None] + sq_norms(S)[None, :] - 2 * Y @ S.T, kn)
    d_t = knn_mean(yn[:, None] + sq_norms(bank_t)[None, :] - 2 * Y @ bank_t.T, kn)
    return d_s, d_t


def score_expanded(train, test, n_source, ks, kn, lam):
    X, Y, S, T = float64_rows(train, test, n_source)
    xn = sq_norms(X)
    yn = sq_norms(Y)
    G = Y @ X.T
    d2 = yn[:, None] + xn[None, :] - 2 * G
    d_s = knn_mean(d2[:, :n_source], kn)
    d2_t = d2[:, n_source:]
    if ks > 0:
        idx, ts = mixup_neighbours(T, S, ks)
        sn, tn = xn[:n_source], xn[n_source:]
        ts_sel = np.take_along_axis(ts, idx, axis=1)
        aug_norm = lam * lam * tn[:, None] + (1 - lam) ** 2 * sn[idx] + 2 * lam * (1 - lam) * ts_sel
        y_aug = lam * G[:, n_source:][:, :, None] + (1 - lam) * G[:, :n_source][:, idx]
        d2_aug = yn[:, None, None] + aug_norm[None] - 2 * y_aug
        d2_t = np.concatenate([d2_t, d2_aug.reshape(len(Y), -1)], axis=1)
    d_t = knn_mean(d2_t, kn)
    return d_s, d_t


def transductive(d_s, d_t):
    return np.minimum((d_s - d_s.mean()) / d_s.std(), (d_t - d_t.mean()) / d_t.std())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--variant", choices=["reference", "expanded"], default="reference")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--source", type=int, default=990)
    p.add_argument("--target", type=int, default=10)
    p.add_argument("--test", type=int, default=200)
    p.add_argument("--dim", type=int, default=6144)
    p.add_argument("--ks", type=int, default=990)
    p.add_argument("--kn", type=int, default=1)
    p.add_argument("--lam", type=float, default=0.9)
    p.add_argument("--check-dir")
    a = p.parse_args()
    score = score_reference if a.variant == "reference" else score_expanded
    rng = np.random.default_rng(0)
    n_train = a.source + a.target
    layers = [
        (rng.random((n_train, a.dim), dtype=np.float32), rng.random((a.test, a.dim), dtype=np.float32))
        for _ in range(a.layers)
    ]
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for train, test in layers:
        transductive(*score(train, test, a.source, a.ks, a.kn, a.lam))
    seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "variant": a.variant,
        "seconds": seconds,
        "cpu_seconds": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "layers": a.layers,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    }
    if a.check_dir:
        train = np.load(os.path.join(a.check_dir, "train.npy"))
        test = np.load(os.path.join(a.check_dir, "test.npy"))
        d_s, d_t = score(train, test, a.source, a.ks, a.kn, a.lam)
        out["check"] = {"d_source": d_s.tolist(), "d_target": d_t.tolist(), "score": transductive(d_s, d_t).tolist()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
