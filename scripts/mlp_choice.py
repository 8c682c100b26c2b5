"""How should a network with one hidden layer use the two cores?  Measured.

For 784-128-10 and 784-256-10, training steps of Adam at batch 128 are timed
four ways, taking turns, in one run: in one piece on one thread (as before
unit_halves.py), as two halves of the hidden units one after the other on
one thread, as two halves on two threads (the optimiser's step shared
too), and as training runs them (network/unit_halves.py's ThreadChoice
choosing between the last two).  A step's median time times the steps of an epoch is
reported, with each way's mean (a busy machine shows in the gap), and the
load average.  BLAS runs on one thread every way, as training runs.

    .venv/bin/python scripts/mlp_choice.py [--steps 300] [--rounds 3] [--networks 784-128-10,784-256-10]
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

from network.bench import BATCH, IMAGES, random_images  # noqa: E402
from network.training import TrainConfig, new_network, train_steps  # noqa: E402

NETWORKS = {"784-128-10": TrainConfig(hidden=(128,)), "784-256-10": TrainConfig(hidden=(256,))}


class Fixed:
    """A ThreadChoice that always runs the halves the same way."""

    def __init__(self, together):
        self.best = together

    def together(self):
        return self.best

    def record(self, together, seconds):
        pass


WAYS = {"one piece": lambda net: setattr(net, "halves", None),
        "halves, one thread": lambda net: setattr(net, "threads", Fixed(False)),
        "halves, two threads": lambda net: setattr(net, "threads", Fixed(True)),
        "chosen": lambda net: None}


def epoch_seconds(config, way, images, labels, steps):
    """(median, mean) seconds of a step (after 20 warm-up steps) times the steps of an epoch."""
    config = dataclasses.replace(config, optimizer="adam", lr=0.001, batch_size=BATCH, epochs=None,
                                 iterations=steps + 20, dev_size=0)
    net = new_network(config)
    WAYS[way](net)
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
    for _ in range(args.rounds):
        for name in args.networks.split(","):
            for way in WAYS:
                seconds.setdefault(name, {}).setdefault(way, []).append(
                    epoch_seconds(NETWORKS[name], way, images, labels, args.steps))
        load.append(os.getloadavg()[0])
    result = {name: {way: {"median_step_epoch_seconds": round(statistics.median(m for m, _ in runs), 3),
                           "mean_step_epoch_seconds": round(statistics.median(s for _, s in runs), 3)}
                     for way, runs in by.items()}
              for name, by in seconds.items()}
    print(json.dumps({"epochs": result, "load_average": [round(x, 1) for x in load]}))


if __name__ == "__main__":
    main()
