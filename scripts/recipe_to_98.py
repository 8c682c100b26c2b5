"""When does a recipe for 784-256-10 first read 98% of MNIST's test set?

`bench` times its TO_98 recipe to 98% test accuracy, checked every quarter
of an epoch.  The epoch at which a recipe gets there does not depend on the
machine (one BLAS thread, as training runs), so recipes can be compared on
a busy machine: each RECIPE is the changes to TO_98 as Python keywords, and
one JSON line per recipe gives the first check at 98% (epoch, accuracy),
every check's (epoch, accuracy) until then, and the CPU seconds this
thread spent training until then (checks excluded): what the training takes
alone on a quiet machine, which a busy one inflates less than its wall
time (not all of it for a batch big enough to be cut in halves, whose
second half runs on another thread).

    .venv/bin/python scripts/recipe_to_98.py "lr=0.006, iterations=None, epochs=3" "batch_size=256, lr=0.012"
"""

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network.bench import TO_98, check_points  # noqa: E402
from network.mnist import fetch_mnist  # noqa: E402


def checks(config, mnist):
    """(epoch, test accuracy, training CPU seconds so far) every quarter
    epoch, up to the first at 98%."""
    cpu, start = 0.0, time.thread_time()
    for p, net in check_points(config, mnist):
        cpu += time.thread_time() - start
        accuracy = net.accuracy(mnist.test.images, mnist.test.labels)
        yield round(p.epoch, 2), round(accuracy, 4), round(cpu, 3)
        if accuracy >= 0.98:
            return
        start = time.thread_time()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=[""], metavar="RECIPE")
    args = parser.parse_args()
    mnist = fetch_mnist()
    with threadpool_limits(1, user_api="blas"):
        for recipe in args.recipes:
            config = eval(f"dataclasses.replace(TO_98, {recipe})", {"dataclasses": dataclasses, "TO_98": TO_98})
            trace = list(checks(config, mnist))
            first = next((check[:2] for check in trace if check[1] >= 0.98), None)
            print(json.dumps({"recipe": recipe or "TO_98", "first_98": first, "cpu_seconds": trace[-1][2],
                              "checks": [check[:2] for check in trace], "load_average": os.getloadavg()[0]}),
                  flush=True)


if __name__ == "__main__":
    main()
