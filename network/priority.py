"""Training gives way to reading.

On a classroom server the same two cores read a class's drawings and train
the networks some students start.  A reading is a few milliseconds that a
student waits for; a training step can wait a few milliseconds unnoticed.
So the threads that train lower their own CPU priority (Linux keeps a
niceness per thread): while the cores are busy the scheduler runs readings
first, and on an idle machine training goes exactly as fast as before.
"""

import os
import threading

BACKGROUND_NICENESS = 10  # of -20..19: a tenth of a default thread's share under contention


def run_in_background() -> None:
    """Lower the calling thread's CPU priority (never raise it).  Harmless
    where threads have no priority of their own to set (not Linux)."""
    try:
        thread = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread) < BACKGROUND_NICENESS:
            os.setpriority(os.PRIO_PROCESS, thread, BACKGROUND_NICENESS)
    except (AttributeError, OSError):
        pass
