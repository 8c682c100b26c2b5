"""The second half of a training batch, computed in a worker process.

A large batch is cut in two halves, one per core (Network.gradient).  Two
threads of one process hand Python's lock to each other at every NumPy call,
and the CNN's halves lost 1-2 ms a step waiting for it
(scripts/halves_profile.py); a second process has a lock of its own.

One worker process serves every network training in this process (a
server's runs take turns with it, one half at a time): started by the
first large batch, it lives until this process ends (it stops when its
stdin closes).  A network training in
halves has a block of shared memory: its weights, the gradient of the
second half, that half's images and labels.  A request is one JSON line
(which block, the network's architecture, the random state of the twin
that draws the half's dropout masks, the half's size); the worker computes
the gradient into the block and answers with one JSON line (loss, number
correct, the random state after).  Nothing is pickled.

When the worker cannot start, has died, or is busy with another network's
batch, the half is computed here on the calling thread by the same twin:
the same numbers, only slower.  The random state lives here, so the masks
do not depend on where a half was computed.

Where a half is computed is chosen as training goes, and changes no number.
On a machine whose cores are busy with other programs, handing a half over
and back costs a wait for a core each way: with two busy programs running,
784-256-10 took 2.25 s an epoch in halves against 0.75 s in one piece, the
CNN 18.8 s against 7.1 s (scripts/shard_choice.py; README, "Speed").  So when the worker's
answers come later than this process's own half took (the median of the
last PROBE_STEPS steps), both halves are computed here for a stretch of
steps, after which PROBE_STEPS steps try the worker again; each slow try
doubles the next stretch.
"""

import atexit
import json
import logging
import os
import select
import statistics
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict
from multiprocessing import resource_tracker, shared_memory
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .shapes import PIXELS, SIDE

log = logging.getLogger(__name__)

STARTUP_SECONDS = 60   # a worker not ready by then is given up (a very busy server)
RETRY_SECONDS = 60     # after a worker failed, the halves are computed here this long
KEPT_BLOCKS = 8        # the worker keeps this many networks' blocks mapped
PROBE_STEPS = 5        # the worker's last steps that judge it (medians)
STRETCHES = (10, 640)  # then steps computed here when it is slow: at first, and at most
ALIGN = 64


def block_layout(n_params, dtype, rows, columns, distorted):
    """Offsets of a block's parts, and its size, with room for a half of
    `columns` images: the weights, the gradient, the half's columns X
    (rows, columns) and labels, and for a distorted batch (augment.py's
    DistortedBatch) where its pixels read and which pen each image gets
    (its images before the warp go where X goes)."""
    item = np.dtype(dtype).itemsize
    sizes = {"params": n_params * item, "grads": n_params * item, "X": rows * columns * max(item, 4),
             "labels": 8 * columns, "positions": 4 * 2 * PIXELS * columns * distorted, "pens": 8 * columns * distorted}
    offsets, end = {}, 0
    for part, size in sizes.items():
        offsets[part] = end
        end = -(-(end + size) // ALIGN) * ALIGN
    return offsets, end


def block_views(buffer, n_params, dtype, rows, columns, distorted, m=0, order="C"):
    """The parts of a block (see block_layout) as arrays, for a half of m images."""
    at, _ = block_layout(n_params, dtype, rows, columns, distorted)

    def part(name, shape, part_dtype, part_order="C"):
        return np.ndarray(shape, part_dtype, buffer, at[name], order=part_order)
    return SimpleNamespace(params=part("params", (n_params,), dtype), grads=part("grads", (n_params,), dtype),
                           X=part("X", (rows, m), dtype, order), labels=part("labels", (m,), np.int64),
                           images=part("X", (m, SIDE, SIDE), np.float32),
                           positions=part("positions", (m * distorted, 2, PIXELS), np.float32),
                           pens=part("pens", (m * distorted,), np.float64))


# -- the worker process -------------------------------------------------------

def serve(requests, answers):
    """Answer every request line until `requests` ends."""
    from .augment import DistortedBatch, Distortions  # noqa: PLC0415 (keeps this module light to import)
    from .model import Network  # noqa: PLC0415
    blocks = OrderedDict()  # name -> (SharedMemory, twin network)
    for line in requests:
        request = json.loads(line)
        name = request["block"]
        if request.get("forget"):
            if name in blocks:
                blocks.pop(name)[0].close()
            continue
        try:
            shape = (request["n_params"], request["dtype"], request["rows"], request["columns"],
                     "distorted" in request)
            if name not in blocks:
                memory = shared_memory.SharedMemory(name=name)
                # Python 3.11 registers a block it only opened, and would unlink it when this
                # process ends: the block belongs to the training process.
                resource_tracker.unregister(memory._name, "shared_memory")
                params = block_views(memory.buf, *shape).params
                blocks[name] = (memory, Network(request["arch"], 0, np.dtype(request["dtype"]), params=params))
                while len(blocks) > KEPT_BLOCKS:
                    blocks.popitem(last=False)[1][0].close()
            blocks.move_to_end(name)
            memory, twin = blocks[name]
            half = block_views(memory.buf, *shape, request["m"], request["order"])
            X = half.X
            if distorted := request.get("distorted"):
                X = DistortedBatch(Distortions(half.images, half.positions if distorted["positions"] else None,
                                               half.pens if distorted["pens"] else None),
                                   distorted["pixels_together"]).columns()
            twin.rng.bit_generator.state = request["random_state"]
            loss, correct = twin.shard_gradient(X, half.labels)
            np.copyto(half.grads, twin.grads)
            del half, X
            answer = {"loss": loss, "correct": correct, "random_state": twin.rng.bit_generator.state}
        except Exception as error:  # noqa: BLE001 (reported to the training process, which computes the half itself)
            answer = {"error": f"{type(error).__name__}: {error}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def main():
    from .priority import run_in_background  # noqa: PLC0415
    run_in_background()  # training gives way to reading, in this process too
    print("ready", flush=True)
    serve(sys.stdin, sys.stdout)


# -- the training process's side ---------------------------------------------

class Worker:
    """The worker process and the pipe to it; one request at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.process = None
        self.ready = False       # it has said so: it takes requests
        self.started_at = 0.0
        self.failed_at = None

    def pid(self):
        return self.process.pid if self.alive() else None

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def take(self):
        """The worker, reserved for one request, or None: busy, starting,
        failed lately."""
        if not self.lock.acquire(blocking=False):
            return None
        if self._ready():
            return self
        self.lock.release()
        return None

    def wait_until_ready(self, timeout=STARTUP_SECONDS):
        """Start the worker if it is not running, and wait until it takes
        requests (for tests and benchmarks: training never waits)."""
        deadline = time.monotonic() + timeout
        while (worker := self.take()) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if worker is not None:
            worker.lock.release()
        return worker is not None

    def _ready(self):
        """Whether the worker takes requests now.  Starts one when none runs:
        its first answer comes after Python and NumPy have loaded (about
        0.2 s), and until then the halves are computed here."""
        if not self.alive():
            if self.failed_at is None or time.monotonic() - self.failed_at >= RETRY_SECONDS:
                self._start()
            return False
        if not self.ready:
            if select.select([self.process.stdout], [], [], 0)[0]:
                self.ready = self.process.stdout.readline().strip() == "ready"
                if not self.ready:
                    self.fail("it did not start")
            elif time.monotonic() - self.started_at > STARTUP_SECONDS:
                self.fail("it was not ready in time")
        return self.ready

    def _start(self):
        self.stop()  # one that ended by itself
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        try:  # run from the folder holding this package, so `-m network...` finds this one
            self.process = subprocess.Popen([sys.executable, "-m", "network.second_half"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, env=env, text=True, close_fds=True,
                                            cwd=Path(__file__).resolve().parent.parent)
            self.started_at = time.monotonic()
        except OSError as error:
            self.fail(f"it did not start: {error}")

    def ask(self, request):
        """Send a request; False when the worker has gone."""
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            return True
        except (OSError, ValueError):
            self.fail("its pipe closed")
            return False

    def answer(self):
        """The answer to the request sent, or None when the worker has gone."""
        try:
            line = self.process.stdout.readline().strip()
        except (OSError, ValueError):
            line = ""
        if not line:
            self.fail("it ended")
            return None
        return json.loads(line)

    def forget(self, name):
        with self.lock:
            if self.alive():
                self.ask({"block": name, "forget": True})

    def fail(self, why):
        log.warning("the second-half worker stopped (%s): halves are computed in this process for %d s",
                    why, RETRY_SECONDS)
        self.failed_at = time.monotonic()
        self.stop()

    def stop(self):
        self.ready = False
        if self.process is not None:
            process, self.process = self.process, None
            for pipe in (process.stdin, process.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


WORKER = Worker()
atexit.register(WORKER.stop)


def worker_pid():
    """The worker process's id while it runs (bench pins it with the rest)."""
    return WORKER.pid()


class SecondHalf:
    """How one network gets the gradient of the second half of its batches:
    begin() hands the half to the worker, end() collects its loss, number
    correct and gradient (or computes them here, with `twin`)."""

    def __init__(self, net):
        self.net = net
        self.twin = net.twin(seed=[net.seed, 1])  # its rng draws the second half's dropout masks
        self.memory = None
        self.shape = None     # (rows, columns, distorted) the block has room for
        self.sent = None      # the read-only batch whose half is in the block already
        self.worker = None
        self.half = None
        self._finalizer = None
        self.timings = []             # the worker's last steps: (our half's seconds, seconds waited after)
        self.stretch = STRETCHES[0]   # steps to compute here when the worker is slow
        self.here_for = 0             # steps left to compute here
        self.handed_over = 0.0        # when the half went to the worker
        self.answered = 0             # halves the worker computed

    def begin(self, X, a, labels):
        """Start the gradient of X's columns from a on (with labels[a:])."""
        self.half = (X, a, labels)
        if self.here_for:
            self.here_for -= 1
            return
        self.worker = WORKER.take()
        if self.worker is None:
            return
        try:
            request = self._fill_block(X, a, labels)
        except OSError as error:  # no room for shared memory
            log.warning("no shared memory for the second half (%s): the next %d computed in this process",
                        error, STRETCHES[1])
            self.here_for = STRETCHES[1]
            self._give_up()
            return
        if not self.worker.ask(request):
            self._give_up()
        self.handed_over = time.perf_counter()

    def end(self):
        """(loss, number correct, gradient) of the half begun."""
        worker, self.worker = self.worker, None
        if worker is not None:
            ours = time.perf_counter()
            try:
                answer = worker.answer()
            finally:
                worker.lock.release()
            self._choose(ours - self.handed_over, time.perf_counter() - ours)
            if answer is not None and "error" not in answer:
                self.twin.rng.bit_generator.state = answer["random_state"]
                self.answered += 1
                return answer["loss"], answer["correct"], self._views().grads
            if answer is not None:
                log.warning("the second-half worker failed: %s; computed in this process", answer["error"])
        X, a, labels = self.half
        loss, correct = self.twin.shard_gradient(X.columns(a) if hasattr(X, "columns") else X[:, a:], labels[a:])
        return loss, correct, self.twin.grads

    def _choose(self, ours, waited):
        """Compute the next halves here for a while if, over PROBE_STEPS
        steps, the worker's answers came later than our own half took."""
        self.timings.append((ours, waited))
        if len(self.timings) < PROBE_STEPS:
            return
        ours, waited = (statistics.median(t) for t in zip(*self.timings))
        self.timings = []
        if waited <= ours:
            self.stretch = STRETCHES[0]
        else:
            self.here_for, self.stretch = self.stretch, min(2 * self.stretch, STRETCHES[1])

    def _give_up(self):
        self.worker.lock.release()
        self.worker = None

    def _views(self, m=0, order="C"):
        return block_views(self.memory.buf, self.net.params.size, self.net.params.dtype, *self.shape, m, order)

    def _fill_block(self, X, a, labels):
        rows, m = X.shape[0], X.shape[1] - a
        distorted = hasattr(X, "distortions")
        if self.memory is None or self.shape[0] != rows or self.shape[1] < m or self.shape[2] != distorted:
            if self.memory is not None:  # too small: the worker (ours while we fill it) forgets it
                self.worker.ask({"block": self.memory.name, "forget": True})
                self._let_block_go()
            _, size = block_layout(self.net.params.size, self.net.params.dtype, rows, m, distorted)
            check_room(size)
            self.shape = (rows, m, distorted)
            self.memory = shared_memory.SharedMemory(create=True, size=size)
            self._finalizer = weakref.finalize(self, _release_block, self.memory)
        request = {"block": self.memory.name, "arch": self.net.arch, "n_params": self.net.params.size,
                   "dtype": self.net.params.dtype.str, "rows": rows, "columns": self.shape[1], "m": m, "order": "C",
                   "random_state": self.twin.rng.bit_generator.state}
        half = self._views(m)
        np.copyto(half.params, self.net.params)
        np.copyto(half.labels, labels[a:])
        if distorted:  # the worker makes the half's columns
            made = X.distortions
            np.copyto(half.images, made.images[a:])
            if made.positions is not None:
                np.copyto(half.positions, made.positions[a:])
            if made.pens is not None:
                np.copyto(half.pens, made.pens[a:])
            request["distorted"] = {"positions": made.positions is not None, "pens": made.pens is not None,
                                    "pixels_together": X.pixels_together}
        else:
            columns = X[:, a:]
            if columns.flags.f_contiguous and not columns.flags.c_contiguous:
                request["order"] = "F"
                half = self._views(m, "F")
            # A batch that cannot change (the whole training set, every step
            # of full-batch training) is copied to the block once.
            if not (self.sent is X and not X.flags.writeable):
                np.copyto(half.X, columns)
                self.sent = X if not X.flags.writeable else None
        del half
        return request

    def release(self):
        """Give back the shared memory (the network has finished training)."""
        if self.memory is not None:
            WORKER.forget(self.memory.name)
            self._let_block_go()

    def _let_block_go(self):
        self._finalizer()
        self.memory, self.shape, self.sent = None, None, None


def check_room(size):
    """Raise OSError unless `size` bytes fit in a quarter of the free shared
    memory: Linux promises shared memory before it has it, and a process
    writing past what /dev/shm holds (64 MB in a default Docker container)
    dies of SIGBUS."""
    try:
        room = os.statvfs("/dev/shm")
    except OSError:
        return  # no /dev/shm (not Linux): shared memory lives elsewhere
    if size > room.f_bavail * room.f_frsize // 4:
        raise OSError(f"{size / 1e6:.0f} MB of shared memory wanted, "
                      f"{room.f_bavail * room.f_frsize / 1e6:.0f} MB free in /dev/shm")


def _release_block(memory):
    try:
        memory.unlink()
    except FileNotFoundError:
        pass
    try:
        memory.close()
    except BufferError:  # an array still looks at it: the mapping goes with the array
        pass


if __name__ == "__main__":
    main()
