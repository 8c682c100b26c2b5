"""Keep freed memory for the next array while training; give it back after.

By default glibc gives every freed block over 128 KB back to the operating
system and maps fresh pages for the next one, so every first write to each
4 KB page of the next array costs a page fault.  Training allocates and frees
arrays of that size hundreds of times a second (an augmented batch is 400 KB):
augmenting one batch took 4.1 ms of CPU with glibc's defaults and 1.3 ms with
these thresholds (README, "Speed").

What training kept must go back once it is over, or a classroom server keeps
its peak for good (544 MB after every tab had closed, against 199 MB at the
start).  malloc_trim gives back all the free memory of the main arena, but
of another arena only what lies below its free top, which these thresholds
let grow to 64 MB; and glibc gives each thread that allocates while another
does an arena of its own, up to 16 on 2 cores.  So:

- the process keeps a single arena (MALLOC_ARENA_MAX=1).  mallopt sets it
  only while fewer than 9 arenas exist, and a Streamlit server's threads
  have made 13 by the time its first page imports the network (measured):
  so the server is started with it in its environment (SERVER_ENVIRONMENT:
  `make app`, deploy/Dockerfile, the tests' servers); elsewhere
  keep_freed_memory sets it;
- a janitor thread gives the free memory back every few seconds while no
  run trains (training would only take it again), after the app has let
  go of what closed tabs held.

Only glibc has mallopt and malloc_trim; elsewhere this changes nothing.
"""

import ctypes
import logging
import os
import threading

M_TRIM_THRESHOLD = -1   # free memory kept at the top of the heap before giving it back
M_MMAP_THRESHOLD = -3   # blocks at least this large get pages of their own
M_ARENA_MAX = -8        # at most this many arenas (glibc's own limit: 8 per core)

SERVER_ENVIRONMENT = {"MALLOC_ARENA_MAX": "1"}  # what the app's server is started with (see above)
JANITOR_SECONDS = 10.0  # how often the janitor gives freed memory back

log = logging.getLogger(__name__)


def _libc(name):
    """A function of the C library, or None where there is none (not glibc)."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def keep_freed_memory(mmap_threshold=32 << 20, trim_threshold=64 << 20, arenas=1):
    """Serve arrays under `mmap_threshold` bytes from the heap, keep up to
    `trim_threshold` bytes of freed heap, in at most `arenas` arenas (if
    fewer than 9 exist yet).  True if the C library agreed."""
    mallopt = _libc("mallopt")
    if mallopt is None:
        return False
    return all([mallopt(M_ARENA_MAX, arenas), mallopt(M_MMAP_THRESHOLD, mmap_threshold),
                mallopt(M_TRIM_THRESHOLD, trim_threshold)])


def give_back_freed_memory():
    """Hand the memory malloc keeps free back to the operating system; True
    if some went back.  The next arrays pay their page faults again."""
    malloc_trim = _libc("malloc_trim")
    return bool(malloc_trim(0)) if malloc_trim is not None else False


def resident_mb():
    """This process's resident memory in MB (Linux), or None elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError, IndexError):
        return None


def start_janitor(busy, tidy=lambda: None, every=JANITOR_SECONDS):
    """A daemon thread that, every `every` seconds while busy() is false,
    calls tidy() (the app's: forget closed tabs) and gives freed memory back;
    warns once if the server was started without SERVER_ENVIRONMENT."""
    if any(os.environ.get(name) != value for name, value in SERVER_ENVIRONMENT.items()):
        log.warning("started without %s: memory freed by training stays in the process after the tabs close "
                    "(network/memory.py)", " ".join(f"{k}={v}" for k, v in SERVER_ENVIRONMENT.items()))

    def janitor():
        from .priority import run_in_background
        run_in_background()  # after the readings, like training
        pause = threading.Event()
        while not pause.wait(every):
            try:
                if not busy():
                    tidy()
                    give_back_freed_memory()
            except Exception:  # a bug: logged, and the janitor goes on
                log.exception("giving freed memory back failed")

    thread = threading.Thread(target=janitor, name="memory-janitor", daemon=True)
    thread.start()
    return thread
