"""What glibc's malloc settings (network/memory.py) cost training and hold.

    python scripts/malloc_settings.py [--steps 40] [--repeats 3]

Each setting runs in a fresh process (malloc settings only take before the
threads do): augmenting batches of 128 with the Default recipe's
distortions (CPU ms a batch, and page faults: each a first write to a 4 KB
page the process had given back), then the first STEPS steps of the Default
recipe as the app's worker takes them (one BLAS thread a product, the batch's
two halves on two threads), then drawings read a second by 8 threads
sharing the shipped model (scripts/read_throughput.py: do they wait on
each other's malloc?), then the process's resident memory, before and
after give_back_freed_memory().  Settings are interleaved; medians.

    glibc's thresholds   128 KB, as glibc starts (it then raises them itself)
    kept                 network/memory.py's thresholds (32 MB, 64 MB), or a lower trim one
    N arenas             at most N (glibc's own limit: 8 per core, 16 here)
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS = {  # (mmap threshold, trim threshold, arenas)
    "glibc's thresholds": (128 << 10, 128 << 10, 0),
    "kept, 16 arenas (before)": (32 << 20, 64 << 20, 0),
    "kept, 1 arena (now)": (32 << 20, 64 << 20, 1),
    "kept, trim at 4 MB": (32 << 20, 4 << 20, 0),
    "kept, trim at 16 MB": (32 << 20, 16 << 20, 0),
}


def child(mmap_threshold, trim_threshold, arenas, steps):
    """One setting, measured in this (fresh) process; prints a JSON line."""
    import ctypes

    from network import memory
    mallopt = ctypes.CDLL(None).mallopt
    mallopt(memory.M_ARENA_MAX, arenas or 8 * len(os.sched_getaffinity(0)))   # 0: glibc's own limit
    mallopt(memory.M_MMAP_THRESHOLD, mmap_threshold)
    mallopt(memory.M_TRIM_THRESHOLD, trim_threshold)
    memory.keep_freed_memory = lambda *a, **k: True  # network.model's import must not undo the above

    import numpy as np
    from threadpoolctl import threadpool_limits

    from network.augment import augment
    from network.mnist import fetch_mnist
    from network.training import PRESETS, new_network, split_for_training, train_steps
    threadpool_limits(1, user_api="blas")
    config = PRESETS["default"]
    mnist = fetch_mnist(ROOT / "data")
    rng = np.random.default_rng(0)
    images = mnist.train.images[:128]
    cpu, faults = [], []
    for i in range(230):
        usage, started = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
        augment(images, rng, config.augment)
        if i >= 30:
            cpu.append(time.process_time() - started)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - usage)
    data = split_for_training(config, mnist.train, mnist.test, "MNIST")
    net = new_network(config)
    step_seconds, step_faults = [], []
    generator = train_steps(net, config, data.train.images, data.train.labels, data.dev.images[:500],
                            data.dev.labels[:500])
    for i in range(steps):
        usage, started = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
        next(generator)
        if i >= 5:
            step_seconds.append(time.perf_counter() - started)
            step_faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - usage)
    generator.close()
    del net, generator, data
    from contextlib import nullcontext

    from network.modelfile import load_model
    from scripts.read_throughput import reads_per_second
    reader = load_model(ROOT / "models" / "default.npz")
    drawings = rng.random((64, 28, 28), dtype=np.float32)
    readings = reads_per_second(reader, drawings, 8, 3.0, nullcontext())
    rss = memory.resident_mb()
    given_back = memory.give_back_freed_memory()
    print(json.dumps({"augment_ms": 1000 * statistics.median(cpu), "augment_faults": statistics.median(faults),
                      "step_ms": 1000 * statistics.median(step_seconds), "step_faults": statistics.median(step_faults),
                      "readings": readings,
                      "rss_mb": rss, "rss_trimmed_mb": memory.resident_mb(), "trimmed": given_back}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child, args.steps)
    results = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name, setting in SETTINGS.items():
            out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child",
                                  *map(str, setting)], capture_output=True, text=True, check=True).stdout
            results[name].append(json.loads(out.splitlines()[-1]))
    print("| malloc setting | augmenting a batch: CPU, page faults | a Default step: seconds, page faults "
          "| drawings read a second, 8 threads | RSS after / after give_back_freed_memory |\n"
          "| --- | --- | --- | --- | --- |")
    for name, runs in results.items():
        m = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "trimmed"}
        print(f"| {name} | {m['augment_ms']:.2f} ms, {m['augment_faults']:.0f} | {m['step_ms']:.0f} ms, "
              f"{m['step_faults']:.0f} | {m['readings']:.0f} | {m['rss_mb']:.0f} / {m['rss_trimmed_mb']:.0f} MB |")


if __name__ == "__main__":
    sys.exit(main())
