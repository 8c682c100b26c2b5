"""What a visitor's six finished runs keep in the server's memory (issue 14):
the Train page's workers and its session rule (ui/train_runs.keep_networks),
without a browser.

    .venv/bin/python scripts/session_memory.py [--recipe fast|cnn|biggest]

fast: the Fast demo (784-128-10) on MNIST; cnn: the shipped model's
architecture, one epoch on 100 digits a class; biggest: the widest Custom
network the app allows (4096-wide, 3.3 M weights) on 100 digits a class.
Prints the process's RSS before, at its peak and after (all six ended), and
what Python still holds for the six runs (tracemalloc, the honest figure:
network/memory.py keeps freed memory in the process, so RSS does not fall).
"""

import argparse
import dataclasses
import gc
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network.mnist import fetch_mnist  # noqa: E402
from network.run_queue import RunQueue  # noqa: E402
from network.training import PRESETS  # noqa: E402
from network.worker import TrainingWorker  # noqa: E402
from ui.train_runs import Run, keep_networks  # noqa: E402

RECIPES = {
    "fast": PRESETS["fast"],
    "cnn": dataclasses.replace(PRESETS["default"], epochs=1, per_class=100, augment=()),
    "biggest": dataclasses.replace(PRESETS["fast"], hidden=(4096,), epochs=1, per_class=100),
}


def rss_mb(field="VmRSS"):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=list(RECIPES), default="fast")
    args = parser.parse_args()
    mnist = fetch_mnist()
    config = RECIPES[args.recipe]
    gc.collect()
    before = rss_mb()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    runs = []
    for number in range(1, 7):
        worker = TrainingWorker(config, mnist.train, mnist.test, "MNIST", queue=RunQueue(1)).start()
        worker.join()
        runs.append(Run(number, f"Run {number}", config, worker))
        keep_networks(runs)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    kept = sum(run.worker.weights_kept for run in runs)
    print(f"{args.recipe}: {config.describe()}")
    print(f"RSS before {before:.0f} MB, peak {rss_mb('VmHWM'):.0f} MB, after {rss_mb():.0f} MB")
    print(f"held by the six runs: {held / 1e6:.1f} MB ({kept:,} weights kept, "
          f"{sum(1 for run in runs if run.worker.weights_kept)} networks)")


if __name__ == "__main__":
    main()
