"""Memory that training kept goes back to the system: one arena, given back
by malloc_trim, by a janitor that waits while a run trains (network/memory.py)."""

import json
import platform
import subprocess
import sys
import threading
import time

import pytest

from network import memory
from tests.conftest import ROOT

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or memory.resident_mb() is None,
                           reason="mallopt, malloc_trim and /proc are glibc's and Linux's")

# Run in a fresh process: the arena limit holds only if set before the threads
# allocate.  Four threads at once free 8 MB of 1 MB arrays each, which the
# thresholds keep, then the process gives them back; prints RSS in MB and the arenas.
TRAINING_THEN_IDLE = """
import ctypes, json, re, tempfile, threading
import numpy as np
from network import memory
memory.keep_freed_memory()
start = memory.resident_mb()
ready = threading.Barrier(4)
def train():
    ready.wait()   # all four allocate at once: without the limit, each gets an arena
    arrays = [np.ones(1 << 17) for _ in range(8)]
    del arrays
threads = [threading.Thread(target=train) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
kept = memory.resident_mb()
given_back = memory.give_back_freed_memory()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile("r") as info:
    stream = ctypes.c_void_p(libc.fopen(info.name.encode(), b"w"))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    arenas = len(re.findall("<heap nr=", info.read()))
print(json.dumps({"start": start, "kept": kept, "after": memory.resident_mb(), "given_back": given_back,
                  "arenas": arenas}))
"""


@glibc
def test_memory_training_freed_is_kept_then_given_back_from_one_arena():
    out = subprocess.run([sys.executable, "-c", TRAINING_THEN_IDLE], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    mb = json.loads(out.splitlines()[-1])
    assert mb["arenas"] == 1
    assert mb["kept"] - mb["start"] > 24          # the thresholds keep freed arrays for the next batch...
    assert mb["given_back"]
    assert mb["after"] - mb["start"] < 4          # ...until they are given back: all of them


def test_the_janitor_gives_memory_back_only_while_no_run_trains(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "give_back_freed_memory", lambda: calls.append(time.monotonic()))
    training = threading.Event()
    training.set()
    memory.start_janitor(busy=training.is_set, every=0.01)
    time.sleep(0.2)   # twenty chances while a run trains
    assert calls == []
    training.clear()
    deadline = time.monotonic() + 30
    while len(calls) < 3:   # polling: the loop ends as soon as it has given back
        assert time.monotonic() < deadline, "the janitor never gave memory back once training ended"
        time.sleep(0.01)


def test_the_app_s_server_is_started_with_one_arena():
    assert memory.SERVER_ENVIRONMENT == {"MALLOC_ARENA_MAX": "1"}
    assert "MALLOC_ARENA_MAX=1 $(PY) -m streamlit run" in (ROOT / "Makefile").read_text()
    assert "MALLOC_ARENA_MAX=1" in (ROOT / "deploy" / "Dockerfile").read_text()
