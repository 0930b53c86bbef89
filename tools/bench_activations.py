#!/usr/bin/env python
"""Benchmark of ``actlib.activations`` against the naive NumPy one-liners.

    python tools/bench_activations.py [--n 10000000] [--quick] [--grads] [--repeat 3]

For every registered activation (and float32 and float64 input) it prints the time per
element of the stable implementation and of the naive one-liner, the ratio, and the peak
extra memory during the call (``tracemalloc`` peak, in units of the input array's size: the
output itself counts as 1).  A plain ``x.copy()`` timed in the same run gives the memory
bandwidth floor.  ``--grads`` adds the derivatives (against the naive derivative formulas).

Input: ``x ~ Normal(0, 4²)`` (seeded), so a good share of the elements lies in the tails where
the stable forms do extra work; softmax/log_softmax take rows of 1000 logits.

Targets (pass/fail column): time within 2× the naive one-liner and at most 3 input-sized
temporaries.  Where full accuracy needs compensated (double-double) arithmetic the time
target is 6×: exact GELU (negative half), gelu_tanh (x < -1), swish with β not a power of two,
softmax and log_softmax (the exact x - max).  Timing is machine dependent and is not part
of the test suite; ``tests/test_activations_api.py`` only runs ``--n 1000 --quick``.
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.special as sc

try:
    from actlib import activations as A
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from actlib import activations as A

TIME_TARGET, TIME_TARGET_COMPENSATED, MEMORY_TARGET = 2.0, 6.0, 3.0
COMPENSATED = {"gelu", "gelu_tanh", "swish(beta=1.7)", "softmax", "log_softmax"}
_K = np.sqrt(2 / np.pi)


def _naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


# the one-liners a student would write first (value, derivative)
NAIVE = {
    "heaviside": (lambda x: (x > 0).astype(x.dtype), lambda x: np.zeros_like(x)),
    "bipolar_step": (lambda x: np.where(x > 0, 1.0, -1.0).astype(x.dtype),
                     lambda x: np.zeros_like(x)),
    "linear": (lambda x: x * 1, lambda x: np.ones_like(x)),
    "sigmoid": (_naive_sigmoid, lambda x: _naive_sigmoid(x) * (1 - _naive_sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(x.dtype)),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x),
                   lambda x: np.where(x > 0, 1.0, 0.01).astype(x.dtype)),
    "prelu": (lambda x: np.where(x > 0, x, 0.25 * x),
              lambda x: np.where(x > 0, 1.0, 0.25).astype(x.dtype)),
    "elu": (lambda x: np.where(x > 0, x, np.exp(x) - 1),
            lambda x: np.where(x > 0, 1, np.exp(x)).astype(x.dtype)),
    "selu": (lambda x: A.SELU_LAMBDA * np.where(x > 0, x, A.SELU_ALPHA * (np.exp(x) - 1)),
             lambda x: A.SELU_LAMBDA * np.where(x > 0, 1, A.SELU_ALPHA * np.exp(x))),
    "gelu": (lambda x: 0.5 * x * (1 + sc.erf(x / np.sqrt(2))),
             lambda x: 0.5 * (1 + sc.erf(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)),
    "gelu_tanh": (lambda x: 0.5 * x * (1 + np.tanh(_K * (x + 0.044715 * x ** 3))),
                  lambda x: 0.5 * (1 + np.tanh(_K * (x + 0.044715 * x ** 3)))
                  + 0.5 * x * (1 - np.tanh(_K * (x + 0.044715 * x ** 3)) ** 2)
                  * _K * (1 + 3 * 0.044715 * x ** 2)),
    "silu": (lambda x: x / (1 + np.exp(-x)),
             lambda x: _naive_sigmoid(x) * (1 + x * (1 - _naive_sigmoid(x)))),
    "swish": (lambda x: x / (1 + np.exp(-1.0 * x)),
              lambda x: _naive_sigmoid(x) * (1 + x * (1 - _naive_sigmoid(x)))),
    "swish(beta=1.7)": (lambda x: x / (1 + np.exp(-1.7 * x)),
                        lambda x: _naive_sigmoid(1.7 * x) * (1 + 1.7 * x * (1 - _naive_sigmoid(1.7 * x)))),
    "mish": (lambda x: x * np.tanh(np.log(1 + np.exp(x))),
             lambda x: np.tanh(np.log(1 + np.exp(x)))
             + x * (1 - np.tanh(np.log(1 + np.exp(x))) ** 2) * _naive_sigmoid(x)),
    "softplus": (lambda x: np.log(1 + np.exp(x)), _naive_sigmoid),
    "softmax": (lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True), None),
    "log_softmax": (lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)), None),
}


def _cases():
    """(label, activation name, params) for every registered activation, plus swish β=1.7."""
    out = []
    for name in A.names():
        out.append((name, name, {}))
        if name == "swish":
            out.append(("swish(beta=1.7)", name, {"beta": 1.7}))
    return out


def best_time(fun, x, repeat):
    """Best wall time of ``repeat`` calls (seconds)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fun(x)
        best = min(best, time.perf_counter() - t0)
    return best


def peak_memory(fun, x):
    """Peak memory allocated during one call, in units of x.nbytes (output included)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = fun(x)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del result
    return peak / x.nbytes


def run(n, repeat, grads, dtypes, out=sys.stdout):
    rng = np.random.default_rng(12345)
    base = rng.normal(0.0, 4.0, n)
    rows = []
    header = (f"{'activation':22s} {'dtype':7s} {'stable ns/el':>12s} {'naive ns/el':>11s} "
              f"{'ratio':>6s} {'target':>6s} {'mem (x)':>7s} {'naive mem':>9s}  result")
    print(f"n = {n:,} elements, x ~ Normal(0, 4^2), best of {repeat}; memory = peak "
          f"tracemalloc / input size", file=out)
    print(header, file=out)
    print("-" * len(header), file=out)
    failures = 0
    for dtype in dtypes:
        x_flat = base.astype(dtype)
        copy_t = best_time(np.copy, x_flat, repeat) / n * 1e9
        copy_m = peak_memory(np.copy, x_flat)
        print(f"{'copy (baseline)':22s} {np.dtype(dtype).name:7s} {copy_t:12.2f} {'':>11s} "
              f"{'':>6s} {'':>6s} {copy_m:7.2f}", file=out)
        for label, name, params in _cases():
            f = A.get(name)
            kinds = [("", f, NAIVE[label][0])]
            if grads and f.elementwise:
                kinds.append(("'", f.grad, NAIVE[label][1]))
            x = x_flat if f.elementwise else x_flat.reshape(-1, min(1000, n))
            for tick, stable_fn, naive_fn in kinds:
                def stable(v, fn=stable_fn):
                    return fn(v, **params)

                def naive(v, fn=naive_fn):
                    with np.errstate(all="ignore"):
                        return fn(v)

                stable(x[:10])   # warm up
                ts = best_time(stable, x, repeat) / n * 1e9
                tn = best_time(naive, x, repeat) / n * 1e9
                ms, mn = peak_memory(stable, x), peak_memory(naive, x)
                target = TIME_TARGET_COMPENSATED if label in COMPENSATED else TIME_TARGET
                ratio = ts / tn
                ok = ratio <= target and ms <= MEMORY_TARGET
                failures += not ok
                result = "pass" if ok else "FAIL" + (" (time)" if ratio > target else "") + \
                    (" (memory)" if ms > MEMORY_TARGET else "")
                rows.append((label + tick, np.dtype(dtype).name, ts, tn, ratio, ms, mn, ok))
                print(f"{label + tick:22s} {np.dtype(dtype).name:7s} {ts:12.2f} {tn:11.2f} "
                      f"{ratio:6.2f} {target:5.0f}x {ms:7.2f} {mn:9.2f}  {result}",
                      file=out, flush=True)
    print(f"\n{len(rows) - failures} of {len(rows)} within target "
          f"(time <= {TIME_TARGET:g}x naive, {TIME_TARGET_COMPENSATED:g}x where compensated; "
          f"memory <= {MEMORY_TARGET:g}x input)", file=out)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000_000, help="elements per array (10^7)")
    p.add_argument("--quick", action="store_true", help="one repetition, no warm-up runs")
    p.add_argument("--repeat", type=int, default=3, help="repetitions (best is kept)")
    p.add_argument("--grads", action="store_true", help="also benchmark the derivatives")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    args = p.parse_args(argv)
    if args.n < 1:
        p.error("--n must be >= 1")
    repeat = 1 if args.quick else max(1, args.repeat)
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    run(args.n, repeat, args.grads, dtypes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
