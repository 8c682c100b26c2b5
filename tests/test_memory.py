"""Memory that training kept goes back to the system: one arena, given back
by malloc_trim, by a janitor that waits while a run trains and first lets
the sessions of closed tabs go (network/memory.py, ui/session.py)."""

import json
import platform
import subprocess
import sys
import threading
import time
import types
import weakref

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
ready, done = threading.Barrier(4), threading.Barrier(4)
def train():
    ready.wait()   # all four allocate at once: without the limit, each gets an arena
    arrays = [np.ones(1 << 17) for _ in range(8)]
    done.wait()    # and all hold theirs before any frees: none reuses another's
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


class ClosedTab:
    """What a closed tab's session holds: here, a cycle, as a real session's objects make."""

    def __init__(self, session_id):
        self.id = session_id
        self.me = self


def test_closed_tabs_are_forgotten_once_their_time_is_up(monkeypatch):
    """With Streamlit's own session storage: its expired sessions go, with their objects."""
    from streamlit.runtime.memory_session_storage import MemorySessionStorage
    from streamlit.runtime.session_manager import SessionInfo

    from ui import session

    storage = MemorySessionStorage(ttl_seconds=0.05)
    manager = types.SimpleNamespace(_storage_lock=threading.Lock(), _session_storage=storage)
    monkeypatch.setattr(session.Runtime, "instance", classmethod(lambda cls: types.SimpleNamespace(
        _session_mgr=manager)))
    tab = ClosedTab("closed")
    gone = weakref.ref(tab)
    storage.save(SessionInfo(client=None, session=tab))
    del tab
    assert session.forget_closed_tabs() == 0 and gone() is not None   # kept for a while, in case it comes back
    time.sleep(0.1)   # past its time (nothing else would reap it: no other tab closes)
    assert session.forget_closed_tabs() == 1
    assert gone() is None


def test_forgetting_closed_tabs_does_nothing_without_streamlit_s_session_manager(monkeypatch):
    from ui import session
    monkeypatch.setattr(session.Runtime, "instance", classmethod(lambda cls: types.SimpleNamespace()))
    assert session.forget_closed_tabs() == 0


@pytest.mark.browser
@pytest.mark.parametrize("arenas", ["1", ""])
def test_the_server_starts_its_janitor_and_says_when_it_lacks_one_arena(arenas, page, tmp_path, mnist_cache):
    """The app's server starts the janitor with its first page; started without
    MALLOC_ARENA_MAX=1, its log says what that costs."""
    from playwright.sync_api import expect

    from tests.conftest import _data_folder, serving_app
    folder = _data_folder(tmp_path / "data", mnist_cache)
    with serving_app(folder, MALLOC_ARENA_MAX=arenas) as url:
        page.goto(url)
        expect(page.locator(".st-key-prediction")).to_be_visible()   # the app ran: ui was imported
        log = (folder / "server.log").read_text()
    assert ("started without MALLOC_ARENA_MAX=1" in log) == (arenas != "1"), log[-2000:]
