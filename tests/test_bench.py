"""The benchmark's own machinery (its timings are never asserted)."""

import os
import sys

import pytest

from network.bench import one_core
from network.model import shard_pool


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two cores")
def test_one_core_pins_every_thread_even_those_started_before():
    shard_pool().submit(int).result()  # the pool's threads exist before the pinning
    cores = os.sched_getaffinity(0)

    def threads_cores():
        return {task: os.sched_getaffinity(int(task)) for task in os.listdir("/proc/self/task")}

    with one_core():
        assert set(map(frozenset, threads_cores().values())) == {frozenset({min(cores)})}
    assert set(map(frozenset, threads_cores().values())) == {frozenset(cores)}
