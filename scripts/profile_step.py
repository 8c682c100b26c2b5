"""Where a training step's time goes: CPU time of each stage, forward and backward.

One network (default: the shipped CNN's architecture) runs forward and
backward on one thread, BLAS on one thread, on a batch of random images
(64: half of a batch of 128, what each core computes), and each stage's
median CPU time (time.thread_time, so another program's use of the cores
counts for little) is printed, with their sum, and the CPU time of
distorting a batch of 128 images with the Default recipe's augmentations.

    .venv/bin/python scripts/profile_step.py [--batch 64] [--conv 16x5,32x3] [--hidden 128] [--repeats 60]
        [--pixels-together]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network.activations import one_hot, softmax  # noqa: E402
from network.augment import augment  # noqa: E402
from network.shapes import as_columns  # noqa: E402
from network.training import PRESETS, TrainConfig, new_network, parse_conv, parse_widths  # noqa: E402


def timed(call):
    start = time.thread_time()
    result = call()
    return result, time.thread_time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--conv", default="16x5,32x3")
    parser.add_argument("--hidden", default="128")
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--pixels-together", action="store_true",
                        help="the batch laid out as dense networks' training batches are (as_columns)")
    args = parser.parse_args()
    net = new_network(TrainConfig(hidden=parse_widths(args.hidden), conv=parse_conv(args.conv)))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.batch, 28, 28), dtype=np.uint8)
    converting = [timed(lambda: as_columns(images, args.pixels_together))[1] for _ in range(args.repeats)]
    print(f"converting the batch to floats: {statistics.median(converting) * 1e3:.3f} ms of CPU")
    X = as_columns(images, args.pixels_together)
    labels = rng.integers(0, 10, args.batch)
    forward = [[] for _ in net.stages]
    backward = [[] for _ in net.stages]
    with threadpool_limits(1, user_api="blas"):
        for _ in range(args.repeats + 10):  # the first 10 warm the buffers up
            A = X
            for i, stage in enumerate(net.stages):
                A, seconds = timed(lambda: stage.forward(A, training=True, keep=True))  # noqa: B023
                forward[i].append(seconds)
            d = softmax(A) - one_hot(labels)
            for i in reversed(range(len(net.stages))):
                d, seconds = timed(lambda: net.stages[i].backward(d, need_input_grad=i > 0))  # noqa: B023
                backward[i].append(seconds)
    total = 0.0
    for stage, f, b in zip(net.stages, forward, backward):
        f, b = statistics.median(f[10:]) * 1e3, statistics.median(b[10:]) * 1e3
        total += f + b
        print(f"{stage.describe():34s} forward {f:6.3f} ms   backward {b:6.3f} ms")
    print(f"total {total:.2f} ms of CPU for {args.batch} images")
    images = rng.integers(0, 256, (128, 28, 28), dtype=np.uint8)
    kinds = PRESETS["default"].augment
    distorting = [timed(lambda: as_columns(augment(images, rng, kinds)))[1] for _ in range(args.repeats)]
    print(f"distorting 128 images ({', '.join(kinds)}): {statistics.median(distorting) * 1e3:.2f} ms of CPU")


if __name__ == "__main__":
    main()
