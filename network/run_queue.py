"""The run queue: how a classroom of sessions shares the server's cores.

At most MAX_RUNNING runs compute at once (one per core: more would only make
every run slower, and BLAS threads thrash when they compete for cores), at
most one per visitor; the others wait in line.  Training runs and fine-tuning
runs take their places from the same RUN_QUEUE.
"""

import os
import threading

MAX_RUNNING = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
CHECK_INTERVAL = 0.2      # seconds between checks for stop and heartbeat while waiting or paused


class RunQueue:
    """At most `limit` runs compute at once, and at most one per owner (a
    visitor's browser: two tabs do not get two places); the others wait in
    line, first come, first served, except that a run whose owner already
    computes lets the runs behind it pass."""

    def __init__(self, limit):
        self.limit = limit
        self._changed = threading.Condition()
        self._line = []         # waiting runs, the next to go first
        self._running = {}      # run -> its owner

    def enter(self, run, give_up, owner=None):
        """Wait for a place among the running runs; False if give_up()
        returned true first (checked every CHECK_INTERVAL seconds)."""
        owner = run if owner is None else owner
        with self._changed:
            self._line.append((run, owner))
            try:
                while not self._may_enter(run):
                    if give_up():
                        return False
                    self._changed.wait(CHECK_INTERVAL)
                self._running[run] = owner
                return True
            finally:
                self._line.remove((run, owner))
                self._changed.notify_all()

    def _may_enter(self, run):
        """True when a place is free and `run` is the first in line whose owner has none."""
        if len(self._running) >= self.limit:
            return False
        busy = set(self._running.values())
        first = next((waiting for waiting, owner in self._line if owner not in busy), None)
        return first is run

    def leave(self, run):
        """Give up a place among the running (harmless if it had none)."""
        with self._changed:
            self._running.pop(run, None)
            self._changed.notify_all()

    def computing(self):
        """How many runs compute now."""
        with self._changed:
            return len(self._running)

    def position(self, run):
        """1 for the next in line, 2 for the one after...; 0 if not waiting."""
        with self._changed:
            runs = [waiting for waiting, _ in self._line]
            return runs.index(run) + 1 if run in runs else 0


RUN_QUEUE = RunQueue(MAX_RUNNING)
