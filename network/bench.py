"""How fast does the engine train, against what this machine could do?

For each network, one epoch of Adam at batch 128 over 60,000 images (random
pixels: the arithmetic does not depend on them) is timed several times and
the median reported, next to the machine's own float32 matrix-multiply
(GEMM) speed measured in the same run: the ratio of the two is the figure
that survives a noisy machine.  Measured on every core, as the command line
and the app's training run, and on one core.  Given a Python that has
PyTorch (never a dependency of the project), the same epochs in PyTorch are
timed in the same run, one after the other (scripts/torch_epoch.py).
"""

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from . import second_half
from .mnist import fetch_mnist
from .training import PRESETS, TrainConfig, new_network, steps_per_epoch, train_steps

BENCH_NETWORKS = {
    "784-128-10": TrainConfig(hidden=(128,)),
    "784-256-128-10": TrainConfig(hidden=(256, 128)),
    # The shipped model's architecture: conv 16x5x5, pool, conv 32x3x3, pool, 800-128-10.
    "cnn": TrainConfig(hidden=(128,), conv=((16, 5), (32, 3))),
}
IMAGES, BATCH = 60_000, 128
# The recipe timed to 98% test accuracy, checked every quarter of an epoch:
# a one-cycle schedule as long as 2.25 epochs (1,055 steps) peaking at lr
# 0.008 first reads 98.21% after 2.0 epochs (seeds 1 and 2 of the same
# recipe: 98.01% and 98.05%, also after 2.0).  Before: 3 epochs peaking at
# 0.006 first read 98.09% after 2.25; 8 epochs of cosine at 0.002 took 4.
# Schedules that end sooner (1.75 epochs) or peak lower (0.006) read 97.89%
# and 97.96% at their end; a higher peak or batches of 256 get there no
# sooner; batches of 64 after 1.75 epochs, but with twice the optimiser
# steps an epoch (README, "Speed"; scripts/recipe_to_98.py).
TO_98 = TrainConfig(hidden=(256,), optimizer="adam", lr=0.008, schedule="onecycle", batch_size=128,
                    epochs=None, iterations=1055, dev_size=0)
CHECKS_PER_EPOCH = 4
TORCH_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "torch_epoch.py"


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
    """Floating-point operations of one training example: 2 per
    multiply-add of the forward pass (W A, at every position of a conv),
    as many for dW = dZ A^T, and as many again for dA = W^T dZ in every
    layer but the first (nothing below it to learn)."""
    first = next(layer for layer in net.layers if layer.multiply_adds)
    return 2 * (3 * net.multiply_adds - first.multiply_adds)


def random_images(n=IMAGES, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)


def time_epochs(config, images, labels, repeats):
    """Median seconds of `repeats` epochs (after one warm-up epoch)."""
    config = dataclasses.replace(config, optimizer="adam", lr=0.001, batch_size=BATCH, epochs=repeats + 1,
                                 dev_size=0)
    net = new_network(config)
    epoch_ends = [p.seconds for p in train_steps(net, config, images, labels) if p.epoch == int(p.epoch)]
    return statistics.median(np.diff(epoch_ends)), net


def check_points(config, mnist):
    """Train a fresh network on MNIST with `config`, pausing CHECKS_PER_EPOCH
    times an epoch (and at the end) to yield (progress, network), so the
    caller can measure it without the measuring being timed as training."""
    net = new_network(config)
    check_every = steps_per_epoch(config, len(mnist.train)) // CHECKS_PER_EPOCH
    for p in train_steps(net, config, mnist.train.images, mnist.train.labels):
        if p.step % check_every == 0 or p.done:
            yield p, net


def time_to_98(mnist):
    """Training seconds until the test accuracy first reaches 98% (checked
    CHECKS_PER_EPOCH times an epoch; the checks themselves are not counted)."""
    for p, net in check_points(TO_98, mnist):
        with threadpool_limits(1, user_api="blas"):  # as training does: see train_steps
            accuracy = net.accuracy(mnist.test.images, mnist.test.labels)
        if accuracy >= 0.98:
            return {"seconds": round(p.seconds, 2), "epochs": round(p.epoch, 2), "test_accuracy": accuracy}
    return {"seconds": None, "epochs": round(p.epoch, 2), "test_accuracy": accuracy}


def augmentation_share(images, labels, repeats):
    """How much the Default recipe's distortions add to a CNN epoch: seconds
    per epoch with them and without, in the same run."""
    config = BENCH_NETWORKS["cnn"]
    plain, _ = time_epochs(config, images, labels, repeats)
    augmented, _ = time_epochs(dataclasses.replace(config, augment=PRESETS["default"].augment), images, labels,
                               repeats)
    return {"augment": list(PRESETS["default"].augment), "plain_seconds": round(plain, 3),
            "augmented_seconds": round(augmented, 3), "share": round(augmented / plain - 1, 3)}


def torch_seconds(python, threads, repeats, say):
    """PyTorch's median seconds per epoch of each network, from `python`
    running scripts/torch_epoch.py; None when that fails."""
    command = [python, str(TORCH_SCRIPT), "--threads", str(threads), "--repeats", str(repeats),
               "--networks", ",".join(BENCH_NETWORKS)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError) as error:
        detail = (getattr(error, "stderr", "") or str(error)).strip().splitlines() or [repr(error)]
        say(f"  PyTorch not measured ({python}): {detail[-1]}")
        return None
    say(f"  PyTorch {result['torch']} on {threads} thread(s): " +
        ", ".join(f"{name} {s:.3f} s" for name, s in result["seconds_per_epoch"].items()))
    return result


def pin_process(cores):
    """Set the cores of every thread of this process and of the worker that
    computes second halves (Linux keeps one set per thread:
    os.sched_setaffinity(0, ...) alone would leave the threads that already
    exist, BLAS's for one, where they were)."""
    worker = second_half.worker_pid()
    for process in ["self"] + ([str(worker)] if worker else []):
        try:
            tasks = os.listdir(f"/proc/{process}/task")
        except FileNotFoundError:  # the worker has just ended
            continue
        for task in tasks:
            try:
                os.sched_setaffinity(int(task), cores)
            except (ProcessLookupError, PermissionError):  # a thread that has just ended
                pass


@contextmanager
def one_core():
    """Run this process (every thread of it, and the programs it starts) on
    a single core; BLAS on one thread."""
    cores = os.sched_getaffinity(0)
    pin_process({min(cores)})
    try:
        with threadpool_limits(1, user_api="blas"):
            yield
    finally:
        pin_process(cores)


def measure_networks(images, labels, repeats, say, torch_python=None, threads=None):
    """GEMM peak and seconds per epoch of each network, here and in PyTorch.

    The peak is measured before the networks and again after them, and the
    higher taken: a fraction of a second of another program's work during
    one measurement (seen: 168 GFLOP/s, against 200-205 in every other
    run) would otherwise flatter every ratio of the run."""
    peaks = [gemm_gflops()]
    timed = {}
    for name, config in BENCH_NETWORKS.items():
        seconds, net = time_epochs(config, images, labels, repeats)
        timed[name] = seconds, flops_per_image(net) * len(labels)
        say(f"  {name}: {seconds:.3f} s/epoch (median of {repeats}), {timed[name][1] / seconds / 1e9:.1f} GFLOP/s")
    peaks.append(gemm_gflops())
    peak = max(peaks)
    say(f"  GEMM peak {peak:.1f} GFLOP/s (measured {peaks[0]:.1f} before the networks, {peaks[1]:.1f} after)")
    results = {"gemm_gflops": round(peak, 1), "gemm_gflops_before_after": [round(p, 1) for p in peaks],
               "networks": {}}
    for name, (seconds, flops) in timed.items():
        results["networks"][name] = {
            "seconds_per_epoch": round(seconds, 3), "gflops": round(flops / seconds / 1e9, 1),
            "ratio_to_gemm": round(flops / seconds / 1e9 / peak, 3), "tflop_per_epoch": round(flops / 1e12, 3),
            "gemm_bound_seconds": round(flops / peak / 1e9, 3)}
        say(f"  {name}: {flops / seconds / 1e9 / peak:.0%} of the GEMM peak")
    if torch_python:
        torch = torch_seconds(torch_python, threads, repeats, say)
        if torch:
            results["torch"] = torch
            for name, seconds in torch["seconds_per_epoch"].items():
                ours = results["networks"][name]["seconds_per_epoch"]
                results["networks"][name]["ratio_to_torch"] = round(ours / seconds, 3)
                say(f"  {name}: {ours / seconds:.2f}x PyTorch's time")
    return results


def run_benchmarks(repeats=5, time_to_98_percent=True, as_json=False, torch_python=None):
    """Every core (the command line's and the app's training), then one core."""
    def say(message):
        if not as_json:
            print(message, flush=True)

    images, labels = random_images()
    cores = len(os.sched_getaffinity(0))
    results = {"load_average_before": os.getloadavg()}  # the other work these figures share the machine with
    say(f"All {cores} cores (load average {os.getloadavg()[0]:.1f}):")
    results |= {"images": len(labels), "batch_size": BATCH, "cores": cores,
                **measure_networks(images, labels, repeats, say, torch_python, threads=cores)}
    results["augmentation"] = a = augmentation_share(images, labels, repeats)
    say(f"  cnn with the Default recipe's distortions: {a['augmented_seconds']:.3f} s/epoch against "
        f"{a['plain_seconds']:.3f} s without: {a['share']:+.0%}")
    say(f"One core (load average {os.getloadavg()[0]:.1f}):")
    with one_core():
        results["one_core"] = measure_networks(images, labels, repeats, say, torch_python, threads=1)
    if time_to_98_percent:
        results["time_to_98"] = {"network": "784-256-10", **time_to_98(fetch_mnist()),
                                 "recipe": dataclasses.asdict(TO_98)}
        r = results["time_to_98"]
        say(f"784-256-10 to 98% test accuracy: {r['seconds']} s ({r['epochs']} epochs, {r['test_accuracy']:.2%})")
    results["load_average_after"] = os.getloadavg()
    say(f"Load average at the end: {os.getloadavg()[0]:.1f}")
    if as_json:
        json.dump(results, sys.stdout)
        print()
    return results
