"""The benchmark's own machinery (its timings are never asserted)."""

import os
import sys

import pytest

from network import second_half
from network.bench import one_core


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two cores")
def test_one_core_pins_every_thread_even_those_started_before():
    assert second_half.WORKER.wait_until_ready()  # the worker process runs before the pinning
    worker = second_half.worker_pid()
    cores = os.sched_getaffinity(0)

    def threads_cores():
        return {(process, task): os.sched_getaffinity(int(task))
                for process in ("self", str(worker)) for task in os.listdir(f"/proc/{process}/task")}

    with one_core():
        assert set(map(frozenset, threads_cores().values())) == {frozenset({min(cores)})}
    assert set(map(frozenset, threads_cores().values())) == {frozenset(cores)}
