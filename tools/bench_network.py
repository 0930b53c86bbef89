"""Benchmark: one training epoch of the initialisation lesson's network with actlib.nn,
next to the same network written as plain NumPy matrix products (the floor).

The network is the syllabus' Keras stack
    Dense(3, relu, input_dim=2) → BatchNorm → Dense(2, relu) → BatchNorm → Dense(1, sigmoid)
trained with binary cross-entropy and plain mini-batch gradient descent on two moons
(standardised inputs). Both versions start from the same weights and visit the same
mini-batches, and the script checks that they end with the same parameters, so the floor
does exactly the same arithmetic without the library's layers, checks and registry calls.

Time is the best of ``--repeats`` epochs (the two implementations alternating) (wall clock, ``time.perf_counter``); peak memory is
the largest traced allocation during one further epoch (``tracemalloc``, which NumPy reports
its array buffers to). Usage:

    python tools/bench_network.py              # 10^5 samples, batch 256
    python tools/bench_network.py --quick      # small smoke run (10^4 samples, 1 repeat)
"""
import argparse
import sys
import time
import tracemalloc

import numpy as np

from actlib import data, nn

TARGET = 1.5   # the library should stay within this factor of the floor


def lesson_network(rng):
    return nn.Sequential([nn.Dense(2, 3, "relu", rng=rng), nn.BatchNorm(3),
                          nn.Dense(3, 2, "relu", rng=rng), nn.BatchNorm(2),
                          nn.Dense(2, 1, "sigmoid", init="xavier_normal", rng=rng)])


def epoch_actlib(net, X, y, batches, lr):
    """One epoch with the library: forward, loss, backward, in-place update per batch."""
    for idx in batches:
        _, grad = nn.binary_cross_entropy(net.forward(X[idx]), y[idx])
        net.backward(grad)
        for p, g in zip(net.params(), net.grads()):
            p -= lr * g


def epoch_floor(P, X, y, batches, lr, eps=1e-5, clip=1e-12):
    """The same epoch as straight NumPy: P is the list [W1, b1, γ1, β1, W2, b2, γ2, β2, W3, b3]
    (running statistics are not needed for training and are skipped)."""
    W1, b1, g1, be1, W2, b2, g2, be2, W3, b3 = P
    for idx in batches:
        x, t = X[idx], y[idx][:, None]
        n = len(x)
        z1 = x @ W1 + b1
        a1 = np.maximum(z1, 0.0)
        m1, v1 = a1.mean(0), a1.var(0)
        s1 = 1.0 / np.sqrt(v1 + eps)
        h1 = (a1 - m1) * s1
        z2 = (g1 * h1 + be1) @ W2 + b2
        a2 = np.maximum(z2, 0.0)
        m2, v2 = a2.mean(0), a2.var(0)
        s2 = 1.0 / np.sqrt(v2 + eps)
        h2 = (a2 - m2) * s2
        o2 = g2 * h2 + be2
        z3 = o2 @ W3 + b3
        p = 0.5 * (1.0 + np.tanh(0.5 * z3))           # sigmoid, stable
        pc = np.clip(p, clip, 1.0 - clip)
        loss = -np.mean(t * np.log(pc) + (1.0 - t) * np.log1p(-pc))   # noqa: F841 (as the lesson's loop)
        d = (pc - t) / (pc * (1.0 - pc)) / n * (p * (1.0 - p))
        dW3, db3, do2 = o2.T @ d, d.sum(0), d @ W3.T
        dg2, dbe2 = (do2 * h2).sum(0), do2.sum(0)
        da2 = (g2 * s2 / n) * (n * do2 - dbe2 - h2 * dg2)
        dz2 = da2 * (z2 > 0)
        dW2, db2, do1 = (g1 * h1 + be1).T @ dz2, dz2.sum(0), dz2 @ W2.T
        dg1, dbe1 = (do1 * h1).sum(0), do1.sum(0)
        da1 = (g1 * s1 / n) * (n * do1 - dbe1 - h1 * dg1)
        dz1 = da1 * (z1 > 0)
        dW1, db1 = x.T @ dz1, dz1.sum(0)
        for param, grad in zip(P, (dW1, db1, dg1, dbe1, dW2, db2, dg2, dbe2, dW3, db3)):
            param -= lr * grad


def timed(runs, repeats):
    """Best wall time of each ``(run, fresh)`` pair over ``repeats`` rounds, each run on a
    fresh copy of its state; the implementations alternate within a round so that a
    busy machine slows both alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, (run, fresh) in enumerate(runs):
            state = fresh()
            start = time.perf_counter()
            run(state)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def peak_memory(run, fresh):
    state = fresh()
    tracemalloc.start()
    tracemalloc.reset_peak()
    run(state)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--quick", action="store_true", help="10^4 samples, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.repeats = 10_000, 1
    if args.samples < 2 or args.batch_size < 2 or args.repeats < 1:
        parser.error("--samples and --batch-size must be >= 2, --repeats >= 1")

    rng = np.random.default_rng(0)
    X, y = data.two_moons(args.samples, rng=rng, noise=0.1)
    X, _, _ = data.standardise(X)
    y = y.astype(float)
    order = rng.permutation(args.samples)
    batches = [order[i:i + args.batch_size] for i in range(0, args.samples, args.batch_size)]
    if len(batches[-1]) < 2:          # batch norm needs two samples
        batches[-1] = np.concatenate([batches[-2][-1:], batches[-1]])
    template = lesson_network(np.random.default_rng(1))

    def fresh_net():
        return lesson_network(np.random.default_rng(1))

    def fresh_floor():
        return [p.copy() for p in template.params()]

    def run_net(net):
        epoch_actlib(net, X, y, batches, args.learning_rate)

    def run_floor(P):
        epoch_floor(P, X, y, batches, args.learning_rate)

    # same computation: the parameters after one epoch agree
    net, P = fresh_net(), fresh_floor()
    run_net(net)
    run_floor(P)
    gap = max(float(np.max(np.abs(a - b))) for a, b in zip(net.params(), P))

    runs = [("actlib.nn", run_net, fresh_net), ("plain NumPy (floor)", run_floor, fresh_floor)]
    seconds = timed([(run, fresh) for _, run, fresh in runs], args.repeats)
    rows = [(label, sec, peak_memory(run, fresh))
            for (label, run, fresh), sec in zip(runs, seconds)]
    ratio = rows[0][1] / rows[1][1]

    steps = len(batches)
    print(f"one epoch: {args.samples} samples, batch {args.batch_size} ({steps} steps), "
          f"best of {args.repeats}; numpy {np.__version__}")
    print(f"{'implementation':<22}{'epoch (s)':>11}{'per step (µs)':>15}{'peak mem (MiB)':>16}")
    for label, seconds, peak in rows:
        print(f"{label:<22}{seconds:>11.3f}{seconds / steps * 1e6:>15.1f}{peak / 2**20:>16.2f}")
    print(f"ratio actlib / floor: {ratio:.2f} (target <= {TARGET}: "
          f"{'met' if ratio <= TARGET else 'NOT met'}); "
          f"max parameter difference after one epoch: {gap:.1e}")
    if not gap < 1e-8:
        print("error: the two implementations disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
