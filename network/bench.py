"""How fast does the engine train, against what this machine could do?

For each network, one epoch of Adam at batch 128 over MNIST's 60,000
training images is timed several times and the median reported, next to
the machine's own float32 matrix-multiply (GEMM) speed measured in the same
run: the ratio of the two is the figure that survives a noisy machine.
Measured twice: with BLAS on every core, as the command line runs, and on
one thread, as the app's server runs (ui/__init__.py says why).
"""

import dataclasses
import json
import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from .mnist import fetch_mnist
from .training import TrainConfig, new_network, train_steps

BENCH_NETWORKS = {"784-128-10": (128,), "784-256-128-10": (256, 128)}
# The recipe timed to 98% test accuracy.
TO_98 = TrainConfig(hidden=(256,), optimizer="adam", lr=0.002, schedule="cosine", batch_size=128,
                    epochs=8, dev_size=0)


def gemm_gflops(n=1024, repeats=7):
    """The machine's float32 matrix-multiply speed at the current BLAS
    thread count: median of n x n products."""
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b  # warm up the BLAS threads
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def flops_per_image(net):
    """Multiply-adds of one training example through the dense layers, x2:
    forward W A, backward dW = dZ A^T, and dA = W^T dZ below the first layer."""
    widths = [layer.params["W"].shape for layer in net.layers if "W" in layer.params]
    forward = sum(2 * n_out * n_in for n_out, n_in in widths)
    return 2 * forward + sum(2 * n_out * n_in for n_out, n_in in widths[1:])


def time_epochs(hidden, images, labels, repeats):
    """Median seconds of `repeats` epochs (after one warm-up epoch)."""
    config = TrainConfig(hidden=hidden, optimizer="adam", lr=0.001, batch_size=128, epochs=repeats + 1, dev_size=0)
    net = new_network(config)
    epoch_ends = [p.seconds for p in train_steps(net, config, images, labels) if p.epoch == int(p.epoch)]
    return statistics.median(np.diff(epoch_ends)), net


def time_to_98(mnist):
    """Training seconds until the test accuracy first reaches 98% (checked
    after every epoch; the checks themselves are not counted)."""
    net = new_network(TO_98)
    for p in train_steps(net, TO_98, mnist.train.images, mnist.train.labels):
        if p.epoch == int(p.epoch):
            accuracy = net.accuracy(mnist.test.images, mnist.test.labels)
            if accuracy >= 0.98:
                return {"seconds": round(p.seconds, 2), "epochs": int(p.epoch), "test_accuracy": accuracy}
    return {"seconds": None, "epochs": TO_98.epochs, "test_accuracy": accuracy}


def measure_networks(images, labels, repeats, say):
    """GEMM peak and seconds per epoch of each network, at the current BLAS thread count."""
    peak = gemm_gflops()
    results = {"gemm_gflops": round(peak, 1), "networks": {}}
    for name, hidden in BENCH_NETWORKS.items():
        seconds, net = time_epochs(hidden, images, labels, repeats)
        gflops = flops_per_image(net) * len(labels) / seconds / 1e9
        results["networks"][name] = {
            "seconds_per_epoch": round(seconds, 3), "gflops": round(gflops, 1),
            "ratio_to_gemm": round(gflops / peak, 3),
            "gemm_bound_seconds": round(flops_per_image(net) * len(labels) / peak / 1e9, 3)}
        say(f"  {name}: {seconds:.3f} s/epoch (median of {repeats}), {gflops:.1f} GFLOP/s = "
            f"{gflops / peak:.0%} of the GEMM peak ({peak:.1f} GFLOP/s)")
    return results


def run_benchmarks(repeats=5, time_to_98_percent=True, as_json=False):
    """Every core (the command line's way), then one BLAS thread (the app's way)."""
    def say(message):
        if not as_json:
            print(message, flush=True)

    mnist = fetch_mnist()
    images, labels = mnist.train.images, mnist.train.labels
    cores = os.cpu_count()
    say(f"BLAS on all {cores} cores:")
    results = {"images": len(labels), "batch_size": 128, "cores": cores,
               **measure_networks(images, labels, repeats, say)}
    say("BLAS on one thread (as the app runs it):")
    with threadpool_limits(1, user_api="blas"):
        results["one_thread"] = measure_networks(images, labels, repeats, say)
    if time_to_98_percent:
        results["time_to_98"] = {"network": "784-256-10", **time_to_98(mnist),
                                 "recipe": dataclasses.asdict(TO_98)}
        r = results["time_to_98"]
        say(f"784-256-10 to 98% test accuracy: {r['seconds']} s ({r['epochs']} epochs, {r['test_accuracy']:.2%})")
    if as_json:
        json.dump(results, sys.stdout)
        print()
    return results
