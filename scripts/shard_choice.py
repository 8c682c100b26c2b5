"""Is a batch worth cutting in two halves, one per core?  Measured per network.

For each network of `bench` (and 784-256-10), training steps of Adam at batch
128 are timed with the batch in two halves (the second in the worker
process, network/second_half.py) and in one piece on one thread (BLAS on
one thread either way, as training runs), taking
turns, in one run.  A step's median time times the steps of an epoch is
reported (a median of steps shrugs off the moments another program takes
the cores, which an epoch's total does not), with the load average.
network/model.py's MIN_HALF_WORK is chosen from these figures.

    .venv/bin/python scripts/shard_choice.py [--steps 300] [--rounds 3] [--networks cnn,784-128-10]
"""

import argparse
import dataclasses
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network import model  # noqa: E402
from network.bench import BATCH, BENCH_NETWORKS, IMAGES, random_images  # noqa: E402
from network.training import TrainConfig, new_network, train_steps  # noqa: E402

NETWORKS = {**BENCH_NETWORKS, "784-256-10": TrainConfig(hidden=(256,))}


def epoch_seconds(config, images, labels, steps):
    """Median seconds of a step (after 20 warm-up steps) times the steps of an epoch."""
    config = dataclasses.replace(config, optimizer="adam", lr=0.001, batch_size=BATCH, epochs=None,
                                 iterations=steps + 20, dev_size=0)
    ends = [p.seconds for p in train_steps(new_network(config), config, images, labels)]
    return statistics.median(b - a for a, b in zip(ends[20:], ends[21:])) * IMAGES / BATCH


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    args = parser.parse_args()
    images, labels = random_images()
    load = [os.getloadavg()[0]]
    seconds = {}
    for _ in range(args.rounds):
        for name in args.networks.split(","):
            for shards in (2, 1):
                model.MIN_HALF_WORK = 0 if shards == 2 else sys.maxsize
                seconds.setdefault(name, {}).setdefault(shards, []).append(
                    epoch_seconds(NETWORKS[name], images, labels, args.steps))
        load.append(os.getloadavg()[0])
    result = {name: {"multiply_adds_per_half": new_network(NETWORKS[name]).multiply_adds * BATCH // 2,
                     "halves_seconds": round(statistics.median(by[2]), 3),
                     "one_piece_seconds": round(statistics.median(by[1]), 3)}
              for name, by in seconds.items()}
    print(json.dumps({"epochs": result, "load_average": [round(x, 1) for x in load]}))


if __name__ == "__main__":
    main()
