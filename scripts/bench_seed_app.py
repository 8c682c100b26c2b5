"""Where the Seed recipe's time goes in the app, against the command line.

    python scripts/bench_seed_app.py [--iterations 100] [--repeats 3]

Runs the first ITERATIONS steps of the Seed recipe (784-10-10, full batch)
several ways, interleaved, and prints the median seconds of each and its
ratio to the command line's:

  cli         train_steps with BLAS on every core (python -m network train)
  one-thread  the same on one BLAS thread (the app's server setting)
  worker      the app's TrainingWorker at full speed, polled every second
              as the Train page does (one BLAS thread)
  no-eval     one-thread without the dev measurements every 10 steps
  page        (with --page) the whole recipe on the Train page of a real
              server, driven by Chromium at Full speed: Start to "Finished"
              (--page runs every way for the recipe's 500 iterations)

Ratios, not seconds, are the result: the machines are shared and noisy.
"""

import argparse
import contextlib
import dataclasses
import statistics
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network.mnist import fetch_mnist
from network.run_queue import RunQueue
from network.training import PRESETS, new_network, split_for_training, train_steps
from network.worker import TrainingWorker


def time_steps(config, data):
    net = new_network(config)
    started = time.perf_counter()
    for _ in train_steps(net, config, data.train.images, data.train.labels, data.dev.images, data.dev.labels):
        pass
    return time.perf_counter() - started


def time_worker(config, mnist):
    worker = TrainingWorker(config, mnist.train, None, "MNIST", queue=RunQueue(1))
    started = time.perf_counter()
    worker.start()
    while worker.snapshot().ended_as is None:  # the page's fragment polls once a second
        time.sleep(1.0 if worker.snapshot().history else 0.05)
    return time.perf_counter() - started


def time_page(url, browser):
    """Seconds from Start to the end of training on the Train page at Full speed."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{url}/train?preset=seed")
    page.get_by_text("Full speed", exact=True).click()
    page.locator(".st-key-train-start button").click()
    started = time.perf_counter()
    progress = page.locator(".st-key-train-progress")
    while not progress.inner_text().startswith(("Finished", "Evaluating")) and \
            "Measuring its accuracy" not in page.content():
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    page.close()
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--page", action="store_true", help="also time the Train page in Chromium")
    args = parser.parse_args()
    mnist = fetch_mnist()
    iterations = PRESETS["seed"].iterations if args.page else args.iterations
    config = dataclasses.replace(PRESETS["seed"], iterations=iterations)
    data = split_for_training(config, mnist.train, mnist.test, "MNIST")
    ways = {
        "cli": lambda: time_steps(config, data),
        "one-thread": lambda: one_thread(time_steps, config, data),
        "worker": lambda: one_thread(time_worker, config, mnist),
        "no-eval": lambda: one_thread(time_steps, dataclasses.replace(config, dev_size=0, eval_every=None),
                                      split_for_training(dataclasses.replace(config, dev_size=0), mnist.train)),
    }
    with contextlib.ExitStack() as stack:
        if args.page:
            ways["page"] = page_way(stack)
        times = {name: [] for name in ways}
        for _ in range(args.repeats):
            for name, way in ways.items():
                times[name].append(way())
    cli = statistics.median(times["cli"])
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"{name:11s} {median:6.2f} s  x{median / cli:.2f}  ({', '.join(f'{s:.2f}' for s in seconds)})")


def page_way(stack):
    """A server of the app (its own data folder) and a Chromium, for time_page."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import app_and_chromium
    url, browser = app_and_chromium(stack, sync_playwright)
    return lambda: time_page(url, browser)


def one_thread(measure, *args):
    with threadpool_limits(1, user_api="blas"):
        return measure(*args)


if __name__ == "__main__":
    main()
