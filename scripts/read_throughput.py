"""Drawings read per second by one server process, with readers on many threads.

Each reader does what the Draw page does for a drawing: Network.explain
(probabilities, saliency map, hidden activations) with the shipped model,
shared by all threads, BLAS on one thread as in the app.  Measured twice in
the same run: every reader taking one lock per model first (how the Draw
page serialised readers before inference was pure), and without it.

    .venv/bin/python scripts/read_throughput.py [--threads 8] [--seconds 5] [--json]
"""

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network.modelfile import load_model  # noqa: E402


def reads_per_second(net, images, threads, seconds, lock):
    """Readings per second of `threads` readers for `seconds`, each reading
    inside `lock` (a context manager) or not."""
    deadline = time.monotonic() + seconds

    def reader(offset):
        count = 0
        while time.monotonic() < deadline:
            with lock:
                net.explain(images[(offset + count) % len(images)])
            count += 1
        return count

    start = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(reader, range(threads)))
    return total / (time.monotonic() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default.npz"))
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threadpool_limits(1, user_api="blas")  # as the app's server runs
    net = load_model(args.model)
    images = np.random.default_rng(0).random((64, 28, 28), dtype=np.float32)
    net.explain(images[0])  # warm up
    result = {"threads": args.threads,
              "with_a_lock_per_model": round(reads_per_second(net, images, args.threads, args.seconds,
                                                              threading.Lock()), 1),
              "without_a_lock": round(reads_per_second(net, images, args.threads, args.seconds, nullcontext()), 1)}
    print(json.dumps(result) if args.json else
          f"{args.threads} reader threads: {result['with_a_lock_per_model']} drawings/s with a lock per model, "
          f"{result['without_a_lock']} without")


if __name__ == "__main__":
    main()
