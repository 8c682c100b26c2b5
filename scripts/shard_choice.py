"""How should a network use the two cores?  Measured per network.

For each network of `bench` and 784-256-10, training steps of Adam at batch
128 are timed each way it can run, taking turns, in one run (BLAS on one
thread every way, as training runs):

- a network with one hidden layer (network/unit_halves.py): in one piece on
  one thread (as before unit_halves.py), as two halves of its hidden units
  one after the other on one thread, as the two halves on two threads (the
  optimiser's step shared too), and as training runs it (ThreadChoice
  choosing between the last two as it goes);
- any other: the batch cut in two halves on two threads, and in one piece
  on one thread (network/model.py's MIN_SHARD_WORK is chosen from these).

A step's median time times the steps of an epoch is reported (a median of
steps shrugs off the moments another program takes the cores, which an
epoch's total does not), with the mean's (a busy machine shows in the gap),
and the load average.

    .venv/bin/python scripts/shard_choice.py [--steps 300] [--rounds 3] [--networks cnn,784-128-10]
"""

import argparse
import dataclasses
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network import model  # noqa: E402
from network.bench import BATCH, BENCH_NETWORKS, IMAGES, random_images  # noqa: E402
from network.training import TrainConfig, new_network, train_steps  # noqa: E402

NETWORKS = {**BENCH_NETWORKS, "784-256-10": TrainConfig(hidden=(256,))}


class Fixed:
    """A ThreadChoice that always runs the halves the same way."""

    def __init__(self, together):
        self.best = together

    def together(self):
        return self.best

    def record(self, together, seconds):
        pass


def cut_batches(shards):
    def setup(net):
        model.SHARDS, model.MIN_SHARD_WORK = shards, 0
    return setup


HALVES_WAYS = {"one piece": lambda net: setattr(net, "halves", None),
               "halves, one thread": lambda net: setattr(net, "threads", Fixed(False)),
               "halves, two threads": lambda net: setattr(net, "threads", Fixed(True)),
               "as trained": lambda net: None}
BATCH_WAYS = {"batch in halves": cut_batches(2), "one piece": cut_batches(1)}


def epoch_seconds(config, setup, images, labels, steps):
    """(median, mean) seconds of a step (after 20 warm-up steps) times the steps of an epoch."""
    config = dataclasses.replace(config, optimizer="adam", lr=0.001, batch_size=BATCH, epochs=None,
                                 iterations=steps + 20, dev_size=0)
    net = new_network(config)
    setup(net)
    step_seconds = np.diff([p.seconds for p in train_steps(net, config, images, labels)][20:])
    return float(np.median(step_seconds)) * IMAGES / BATCH, float(np.mean(step_seconds)) * IMAGES / BATCH


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    args = parser.parse_args()
    images, labels = random_images()
    load = [os.getloadavg()[0]]
    seconds = {}
    shards = model.SHARDS, model.MIN_SHARD_WORK
    for _ in range(args.rounds):
        for name in args.networks.split(","):
            ways = HALVES_WAYS if new_network(NETWORKS[name]).halves else BATCH_WAYS
            for way, setup in ways.items():
                seconds.setdefault(name, {}).setdefault(way, []).append(
                    epoch_seconds(NETWORKS[name], setup, images, labels, args.steps))
                model.SHARDS, model.MIN_SHARD_WORK = shards
        load.append(os.getloadavg()[0])
    result = {name: {way: {"median_step_epoch_seconds": round(statistics.median(m for m, _ in runs), 3),
                           "mean_step_epoch_seconds": round(statistics.median(s for _, s in runs), 3)}
                     for way, runs in by.items()}
              for name, by in seconds.items()}
    print(json.dumps({"epochs": result, "load_average": [round(x, 1) for x in load]}))


if __name__ == "__main__":
    main()
