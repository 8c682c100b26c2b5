"""The benchmark's own machinery (its timings are never asserted)."""

import os
import sys

import numpy as np
import pytest

from network import second_half
from network.bench import one_core
from network.model import Network, architecture


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two cores")
def test_one_core_pins_every_thread_even_those_started_before():
    net = Network(architecture(hidden=(8,)))
    net.second_half = second_half.SecondHalf(net)
    rng = np.random.default_rng(0)
    net.second_half.begin(rng.random((784, 4), dtype=np.float32), 2, np.arange(4))  # the worker starts...
    net.second_half.end()
    net.done_training()
    worker = second_half.worker_pid()
    assert worker  # ...before the pinning
    cores = os.sched_getaffinity(0)

    def threads_cores():
        return {(process, task): os.sched_getaffinity(int(task))
                for process in ("self", str(worker)) for task in os.listdir(f"/proc/{process}/task")}

    with one_core():
        assert set(map(frozenset, threads_cores().values())) == {frozenset({min(cores)})}
    assert set(map(frozenset, threads_cores().values())) == {frozenset(cores)}
