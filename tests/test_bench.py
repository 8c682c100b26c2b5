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


def test_the_gemm_peak_is_the_higher_of_two_measurements(monkeypatch):
    """Measured before and after the networks: one measurement slowed by
    another program must not flatter the run's ratios."""
    from network import bench
    from network.training import TrainConfig

    measured = iter([100.0, 150.0])
    monkeypatch.setattr(bench, "gemm_gflops", lambda: next(measured))
    monkeypatch.setattr(bench, "BENCH_NETWORKS", {"784-16-10": TrainConfig(hidden=(16,))})
    images, labels = bench.random_images(n=256)
    results = bench.measure_networks(images, labels, repeats=1, say=lambda message: None)
    assert results["gemm_gflops"] == 150.0 and results["gemm_gflops_before_after"] == [100.0, 150.0]
    timed = results["networks"]["784-16-10"]
    assert timed["ratio_to_gemm"] == pytest.approx(timed["gflops"] / 150.0, abs=1e-3)
