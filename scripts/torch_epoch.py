"""PyTorch's time for the epochs `python -m network bench` times, for comparison.

PyTorch is never a dependency of the project: `bench --torch-python PYTHON`
runs this script with a Python that has torch (e.g. a separate venv:
`python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy`)
so that both are measured in one run on the same machine.  It prints one
JSON object: median seconds per epoch of each network, on random data of the
same size (60,000 28x28 images, batch 128, Adam), after one warm-up epoch.

    PYTHON scripts/torch_epoch.py --threads 2 --repeats 3 [--networks cnn,784-128-10]
"""

import argparse
import json
import statistics
import time

import numpy as np
import torch
from torch import nn

IMAGES, BATCH = 60_000, 128


def cnn():
    """The shipped model's architecture: conv 16x5x5, pool, conv 32x3x3, pool, 800-128-10."""
    return nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(800, 128), nn.ReLU(), nn.Linear(128, 10))


def mlp(*widths):
    layers = [nn.Flatten()]
    for n_in, n_out in zip(widths, widths[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


NETWORKS = {"cnn": cnn, "784-128-10": lambda: mlp(784, 128, 10),
            "784-256-128-10": lambda: mlp(784, 256, 128, 10)}


def epoch_seconds(make, repeats):
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (IMAGES, 1, 28, 28), dtype=np.uint8))
    labels = torch.from_numpy(rng.integers(0, 10, IMAGES))
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        order = torch.randperm(IMAGES)
        for i in range(0, IMAGES, BATCH):
            idx = order[i:i + BATCH]
            X = images[idx].float() / 255  # uint8 to float per batch, as the project does
            optimizer.zero_grad()
            loss = loss_fn(model(X), labels[idx])
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"torch": torch.__version__, "threads": args.threads,
              "seconds_per_epoch": {name: round(epoch_seconds(NETWORKS[name], args.repeats), 3)
                                    for name in args.networks.split(",")}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
