"""How long a recipe takes on the Train page, alone on the server.

Runs the page's own TrainingWorker (network/worker.py) on MNIST with the
app's thread settings (one BLAS thread per product, ui/__init__.py), polls
it twice a second as the page does, and prints the seconds from Start to the
end of training and to the final evaluation, with the accuracies.

    .venv/bin/python scripts/time_train_page.py [--preset default] [--json]
"""

import argparse
import json
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network.mnist import fetch_mnist  # noqa: E402
from network.training import PRESETS  # noqa: E402
from network.worker import FINISHED, TrainingWorker  # noqa: E402

POLL = 0.5  # seconds: the Train page's refresh


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threadpool_limits(1, user_api="blas")  # as the app's server runs
    mnist = fetch_mnist()
    worker = TrainingWorker(PRESETS[args.preset], mnist.train, mnist.test, "MNIST")
    start = time.monotonic()
    trained = None
    worker.start()
    while True:
        snapshot = worker.snapshot()
        if trained is None and snapshot.ended_as is not None:
            trained = time.monotonic() - start
        if snapshot.ended:
            break
        time.sleep(POLL)  # the page's polling: the loop ends as soon as the run does
    result = {"preset": args.preset, "state": snapshot.state, "seconds_to_trained": round(trained, 1),
              "seconds_to_evaluated": round(time.monotonic() - start, 1),
              "training_seconds": round(snapshot.latest.seconds, 1),
              **({k: v for k, v in snapshot.outcome.result.items()} if snapshot.outcome else {})}
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0 if snapshot.state == FINISHED else 1


if __name__ == "__main__":
    sys.exit(main())
