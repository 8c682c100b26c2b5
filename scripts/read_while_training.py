"""Reading latency on the Draw page while Fast demo runs train in the same
process, with the training threads at normal priority and at niceness 10,
alternating phases in one run (the machine's load is shared by both).

    python scripts/read_while_training.py --runs 2 --seconds 120
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("NETWORK_DATA_DIR", tempfile.mkdtemp(prefix="read-while-training-"))
if (ROOT / "data" / "mnist.npz").exists() and not (Path(os.environ["NETWORK_DATA_DIR"]) / "mnist.npz").exists():
    (Path(os.environ["NETWORK_DATA_DIR"]) / "mnist.npz").symlink_to(ROOT / "data" / "mnist.npz")

from streamlit.testing.v1 import AppTest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from network.mnist import fetch_mnist  # noqa: E402
from network.training import PRESETS  # noqa: E402
from network.worker import RunQueue, TrainingWorker  # noqa: E402
from tests.drawn import canvas_state, draw_digit  # noqa: E402


def training_threads():
    return [t for t in threading.enumerate() if t.name.startswith(("training-worker", "shard"))]


def set_niceness(value):
    for thread in training_threads():
        try:
            os.setpriority(os.PRIO_PROCESS, thread.native_id, value)
        except (OSError, TypeError):   # a thread just ended (or not started: no native id)
            pass


def main(args):
    threadpool_limits(1, user_api="blas")   # as the app's server does
    mnist = fetch_mnist()
    queue = RunQueue(args.runs)
    stop = threading.Event()
    finished = []

    def keep_training():
        while not stop.is_set():
            worker = TrainingWorker(PRESETS["fast"], mnist.train, mnist.test, queue=queue).start()
            while not worker.done and not stop.is_set():
                worker.snapshot()   # the page's poll, the heartbeat
                time.sleep(0.5)
            worker.stop()
            worker.join()
            finished.append(1)

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    drawings = [canvas_state(draw_digit(d)) for d in (1, 7)]
    trainers = [threading.Thread(target=keep_training, daemon=True) for _ in range(args.runs)]
    for t in trainers:
        t.start()
    time.sleep(3)
    times = {0: [], 10: []}
    end = time.monotonic() + args.seconds
    phase = 0
    while time.monotonic() < end:
        niceness = (0, 10)[phase % 2]
        phase_end = time.monotonic() + args.phase
        while time.monotonic() < phase_end:
            set_niceness(niceness)   # threads started since the last reading too
            at.session_state["canvas-0"] = drawings[len(times[niceness]) % 2]
            start = time.perf_counter()
            at.run()
            times[niceness].append(time.perf_counter() - start)
            time.sleep(0.05)
        phase += 1
    stop.set()
    for t in trainers:
        t.join()
    for niceness, seconds in times.items():
        ordered = sorted(seconds)
        print(f"training at niceness {niceness:2d}: Draw page rerun with a drawing median "
              f"{1000 * statistics.median(ordered):.0f} ms, p95 {1000 * ordered[int(0.95 * len(ordered))]:.0f} ms, "
              f"max {1000 * ordered[-1]:.0f} ms ({len(ordered)} readings)")
    print(f"{len(finished)} Fast demo runs finished; load average {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--phase", type=float, default=10)
    main(parser.parse_args())
