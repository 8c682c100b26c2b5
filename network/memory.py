"""Keep freed memory for the next array instead of handing it back at once.

By default glibc gives every freed block over 128 KB back to the operating
system and maps fresh pages for the next one, so every first write to each
4 KB page of the next array costs a page fault.  Training allocates and frees
arrays of that size hundreds of times a second (an augmented batch is 400 KB):
augmenting one batch took 4.1 ms of CPU with glibc's defaults and 1.3 ms with
these thresholds (README, "Speed").  Only glibc has mallopt; elsewhere this
changes nothing.
"""

import ctypes

M_TRIM_THRESHOLD = -1   # free memory kept at the top of the heap before giving it back
M_MMAP_THRESHOLD = -3   # blocks at least this large get pages of their own


def keep_freed_memory(mmap_threshold=32 << 20, trim_threshold=64 << 20):
    """Serve arrays under `mmap_threshold` bytes from the heap, and keep up to
    `trim_threshold` bytes of freed heap.  True if the C library agreed."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
