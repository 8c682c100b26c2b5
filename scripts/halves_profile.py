"""Where a CNN training step's wall time goes when its batch runs in halves.

Trains the bench's CNN (conv 16x5, pool, conv 32x3, pool, 800-128-10, Adam,
batch 128, random images) for some steps through `train_steps`, as `bench`
does, and reports medians over the steps (after 20 warm-up steps) of:

- the step's wall time, and the part of it spent outside `Network.gradient`
  (the next batch, the Adam step, keeping the last good weights);
- this process's half (`Network.shard_gradient`; the other half is in the
  worker process, network/second_half.py): when it started after the
  gradient was asked for (handing the other half over), its wall time and
  its CPU time (time.thread_time), and how long the gradient took after it
  (waiting for the worker, adding the two halves' gradients);
- halves of 64 images computed over and over (each by its own network, BLAS
  on one thread) by one thread alone, by two threads at once and by two
  processes at once: each half's median wall and CPU time.  Two processes
  share the cores, caches and memory as two threads do, but not Python's
  lock, so what threads lose beyond processes is the lock's cost.

    .venv/bin/python scripts/halves_profile.py [--steps 200]

Run it on a quiet machine: with another program using a core, the halves
take turns on the other. (With Linux's autogroups, `nice` on a program
started in another session does not make it give way.)
"""

import argparse
import dataclasses
import json
import multiprocessing
import multiprocessing.pool
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network import model  # noqa: E402
from network.bench import BATCH, BENCH_NETWORKS, random_images  # noqa: E402
from network.training import batches, new_network, train_steps  # noqa: E402

WARM_UP = 20
RUSAGE_THREAD = getattr(resource, "RUSAGE_THREAD", None)  # Linux only


def repeated_halves(net, half, repeats):
    """Median wall and CPU milliseconds of `repeats` gradients of `half`,
    computed on this thread by a twin of `net`, and how many times a half
    the thread went to sleep (on Linux: waiting for Python's lock, mostly)."""
    twin, walls, cpus = net.twin(), [], []
    sleeps = resource.getrusage(RUSAGE_THREAD).ru_nvcsw if RUSAGE_THREAD else 0
    with model.blas_threads().limit(limits=1, user_api="blas"):
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.thread_time()
            twin.shard_gradient(*half)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
    sleeps = (resource.getrusage(RUSAGE_THREAD).ru_nvcsw - sleeps) / repeats if RUSAGE_THREAD else None
    return {"wall_ms": round(statistics.median(walls[WARM_UP:]) * 1e3, 3),
            "cpu_ms": round(statistics.median(cpus[WARM_UP:]) * 1e3, 3), "sleeps": sleeps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    images, labels = random_images(BATCH * (args.steps + WARM_UP))
    config = dataclasses.replace(BENCH_NETWORKS["cnn"], optimizer="adam", lr=0.001, batch_size=BATCH, epochs=1,
                                 dev_size=0)
    net = new_network(config)
    halves, gradients = [], []
    shard_gradient, gradient = model.Network.shard_gradient, model.Network.gradient

    def timed_half(self, X, labels):
        start, cpu = time.perf_counter(), time.thread_time()
        result = shard_gradient(self, X, labels)
        halves[-1] = (start, time.perf_counter() - start, time.thread_time() - cpu)
        return result

    def timed_gradient(self, X, labels, l2=0.0):
        halves.append(None)
        start = time.perf_counter()
        result = gradient(self, X, labels, l2)
        gradients.append((start, time.perf_counter() - start))
        return result

    model.Network.shard_gradient, model.Network.gradient = timed_half, timed_gradient
    try:
        ends = [p.seconds for p in train_steps(net, config, images, labels)]
    finally:
        model.Network.shard_gradient, model.Network.gradient = shard_gradient, gradient
    steps = [b - a for a, b in zip(ends[WARM_UP:], ends[WARM_UP + 1:])]
    outside = [step - g for step, (_, g) in zip(steps, gradients[WARM_UP + 1:])]

    def median_ms(values):
        return round(statistics.median(values) * 1e3, 3)

    report = {"load_average": os.getloadavg()[0], "step_ms": median_ms(steps),
              "outside_gradient_ms": median_ms(outside), "gradient_ms": median_ms([g for _, g in gradients[WARM_UP:]])}
    kept = list(zip(halves[WARM_UP:], gradients[WARM_UP:]))
    report["this process's half"] = {
        "starts_after_ms": median_ms([h[0] - g[0] for h, g in kept]), "wall_ms": median_ms([h[1] for h, _ in kept]),
        "cpu_ms": median_ms([h[2] for h, _ in kept]),
        "gradient_after_it_ms": median_ms([g[0] + g[1] - h[0] - h[1] for h, g in kept])}
    X, y = next(batches(config, images, labels, net.rng))
    half = (X[:, :BATCH // 2], y[:BATCH // 2])
    report["one thread alone"] = repeated_halves(net, half, args.steps)
    with multiprocessing.pool.ThreadPool(2) as pool:
        report["two threads"] = pool.starmap(repeated_halves, [(net, half, args.steps)] * 2)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        report["two processes"] = pool.starmap(repeated_halves, [(net, half, args.steps)] * 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
