"""Would the CNN's halves be faster in two processes than in two threads?  A sketch, timed.

The engine computes the second half of every batch on a second thread
(`Network.gradient`), and the two threads lose 1-2 ms a step waiting for
Python's lock (scripts/halves_profile.py; README, "Speed").  This script
trains one epoch of the bench's CNN (random images, Adam, batch 128) both
ways, taking turns:

- as the engine does (`train_steps`: halves on two threads);
- with the second half in a worker process: the weights, the gradient and
  the half batch in shared memory, a pipe to say "go" and "done".

It is a measurement, not a second engine: the process version skips what
`train_steps` adds around the gradient (the last good weights, the
progress events: 0.4 ms a step, see halves_profile.py).

    .venv/bin/python scripts/process_halves.py [--rounds 2]
"""

import argparse
import dataclasses
import multiprocessing
import os
import sys
import time
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network import model  # noqa: E402
from network.bench import BATCH, BENCH_NETWORKS, random_images  # noqa: E402
from network.optimizers import Adam  # noqa: E402
from network.training import batches, new_network, train_steps  # noqa: E402

HALF = BATCH // 2


def shared_arrays(memory, n_params):
    """The weights, the gradient of the second half and its images, in `memory`."""
    flat = np.ndarray((2 * n_params + 784 * HALF,), np.float32, memory.buf)
    return flat[:n_params], flat[n_params:2 * n_params], flat[2 * n_params:].reshape(784, HALF)


def worker(arch, seed, n_params, memory_name, pipe):
    """Compute the second half of each batch whose labels arrive on `pipe`."""
    memory = shared_memory.SharedMemory(name=memory_name)
    params, grads, X = shared_arrays(memory, n_params)
    twin = model.Network(arch, seed, np.float32, params=params)
    with model.blas_threads().limit(limits=1, user_api="blas"):
        while (labels := pipe.recv()) is not None:
            result = twin.shard_gradient(X[:, :len(labels)], labels)
            grads[...] = twin.grads
            pipe.send(result)
    del params, grads, X, twin
    memory.close()


def epoch_in_processes(config, images, labels):
    """Seconds of one epoch with the second halves in a worker process."""
    net = new_network(config)
    n = net.params.size
    memory = shared_memory.SharedMemory(create=True, size=4 * (2 * n + 784 * HALF))
    params, grads, X_other = shared_arrays(memory, n)
    params[...] = net.params
    here = model.Network(net.arch, net.seed, np.float32, params=params)  # reads the shared weights
    context = multiprocessing.get_context("spawn")
    pipe, their_end = context.Pipe()
    process = context.Process(target=worker, args=(net.arch, [net.seed, 1], n, memory.name, their_end), daemon=True)
    process.start()
    pipe.send(np.zeros(1, np.int64))  # wait until the worker has started
    pipe.recv()
    adam, rng = Adam(n), np.random.default_rng([config.seed, 1])
    start = time.perf_counter()
    with model.blas_threads().limit(limits=1, user_api="blas"):
        for X, y in batches(config, images, labels, rng):
            m = len(y)
            a = m // 2
            X_other[:, :m - a] = X[:, a:]
            pipe.send(y[a:])
            here.shard_gradient(X[:, :a], y[:a])
            pipe.recv()
            here.grads *= np.float32(a / m)
            here.grads += np.float32((m - a) / m) * grads
            adam.step(params, here.grads, config.lr)
    seconds = time.perf_counter() - start
    pipe.send(None)
    process.join()
    del params, grads, X_other, here
    memory.close()
    memory.unlink()
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    images, labels = random_images()
    config = dataclasses.replace(BENCH_NETWORKS["cnn"], optimizer="adam", lr=0.001, batch_size=BATCH, epochs=1,
                                 dev_size=0)
    for _ in range(args.rounds):
        net = new_network(config)
        start = time.perf_counter()
        for _ in train_steps(net, config, images, labels):
            pass
        threads = time.perf_counter() - start
        processes = epoch_in_processes(config, images, labels)
        print(f"load average {os.getloadavg()[0]:.1f}: an epoch with the halves on two threads {threads:.2f} s, "
              f"in two processes {processes:.2f} s", flush=True)


if __name__ == "__main__":
    main()
