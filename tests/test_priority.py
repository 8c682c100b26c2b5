"""Training gives way to reading: its threads, and the process computing
second halves, lower their own CPU priority."""

import dataclasses
import os
import threading

import pytest

from network import second_half
from network.priority import BACKGROUND_NICENESS, run_in_background
from tests.test_worker import ENDLESS, new_worker, steps_done, wait_for

linux_threads = pytest.mark.skipif(not hasattr(os, "getpriority"), reason="per-thread priority is Linux's")


def niceness(thread):
    return os.getpriority(os.PRIO_PROCESS, thread.native_id)


@linux_threads
def test_a_training_run_s_threads_give_way_and_the_page_s_do_not():
    mine = niceness(threading.current_thread())
    worker = new_worker(dataclasses.replace(ENDLESS, batch_size=64, hidden=(1024,), iterations=1000)).start()  # in two
    try:
        wait_for(lambda: steps_done(worker) > 3)
        assert niceness(worker._thread) >= BACKGROUND_NICENESS
        wait_for(lambda: second_half.WORKER.ready)
        halves = second_half.worker_pid()  # the process computing the second halves
        assert halves and os.getpriority(os.PRIO_PROCESS, halves) >= BACKGROUND_NICENESS
        assert niceness(threading.current_thread()) == mine   # the caller (the page) keeps its priority
    finally:
        worker.stop()
        worker.join(10)


@linux_threads
def test_a_thread_already_lower_is_not_raised():
    seen = []

    def lowest():
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        run_in_background()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=lowest)
    thread.start()
    thread.join()
    assert seen == [19]
