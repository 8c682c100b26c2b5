"""Training off the page's thread: one worker thread per run.

A Streamlit script that trains in its own thread freezes its page, and a Stop
button does nothing until the loop ends.  A TrainingWorker instead drives the
engine's step generator (network.training.train_steps) on a thread of its
own; the page polls it a couple of times a second for an immutable Snapshot
and draws that.  Pure Python and NumPy: nothing here knows about Streamlit.

Only the worker thread runs the network while a run lasts, because the layers
cache forward-pass state and two threads running it at once would corrupt
each other.  So the worker itself computes, between two steps, what the page
shows about the network (its reading of a few dev digits and of the user's
drawing, a copy of the first layer's weights), and `finished_network()`
refuses to hand the network out before the run is over.

What a finished run keeps is bounded, since a session keeps several: its
weights (not the network that trained them: gradients, twins and a CNN's
training buffers held 40 MB for 0.4 MB of weights), and a history of at
most MAX_HISTORY steps (a long run's is thinned evenly: a 10-minute run of
a tiny network takes a million steps).

Besides its last step, three things end a run: stop(); a diverging loss; and
the heartbeat: a run whose page has not polled it for `heartbeat_timeout`
seconds was abandoned (its tab closed) and stops itself.  A run computes only
once it has a place in the RunQueue (run_queue.py), so a classroom of
sessions shares the cores instead of thrashing.

Pacing: a run can be slowed down so that a class can watch it learn
(set_pace: at least so many seconds per step).  The worker waits between
steps, never inside the maths, and only while the page is polling it: a run
nobody watches (its tab in the background) goes at full speed.  While
paused, step(n) takes n more steps and pauses again ("one step", "one
epoch").  The command line never uses a worker, so it is never paced.

Lock order: a RunQueue's lock may be held while taking a worker's lock
(`give_up` callbacks), never the other way round.

Why one file of over 400 lines: a run's life (waiting, running, paused,
evaluating, ended) is one thread's state machine, read best in one place.
"""

import contextlib
import dataclasses
import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from .budgets import check_recipe_budget
from .digits import Digits
from .errors import UserError
from .evaluation import evaluate
from .model import Network
from .priority import run_in_background
from .run_queue import CHECK_INTERVAL, RUN_QUEUE
from .training import (
    TrainingDiverged,
    evaluate_run,
    latest_dev_accuracy,
    new_network,
    run_metadata,
    split_for_training,
    train_steps,
    training_size,
)

HEARTBEAT_TIMEOUT = 60.0  # seconds; generous, as browsers slow the timers of background tabs
VIEW_INTERVAL = 0.5       # seconds between refreshes of what the page shows about the network
UNWATCHED_AFTER = 3.0     # seconds without a poll after which a paced run goes full speed (nobody watches)
GRID_SIZE = 24            # dev digits whose readings the page shows
MAX_FIRST_LAYER = 64      # first-layer units or filters copied for the page
N_WRONG = 24              # most confidently wrong held-out digits to report
MAX_EVALUATED = 10_000    # training images a run's final training accuracy is measured on
MAX_HISTORY = 2_000       # steps a run's history keeps (its curves); longer ones are thinned

WAITING, RUNNING, PAUSED, EVALUATING = "waiting", "running", "paused", "evaluating"
FINISHED, STOPPED, DIVERGED, ABANDONED, FAILED = "finished", "stopped", "diverged", "abandoned", "failed"
ENDED = (FINISHED, STOPPED, DIVERGED, ABANDONED, FAILED)

log = logging.getLogger(__name__)


def divergence_advice(config) -> str:
    """What to try after a diverged run, from what the run did not use already."""
    ideas = ["a learning rate 10 times smaller"]
    if config.optimizer != "adam":
        ideas.append("the Adam optimiser")
    if config.schedule == "constant":
        ideas.append("a cosine schedule")
    if config.init != "he" and config.activation in ("relu", "leaky_relu"):
        ideas.append("He initialisation")
    if config.l2 == 0 and config.optimizer != "adam" and config.lr >= 1:
        ideas.append("some L2")
    return "Try " + (", ".join(ideas[:-1]) + " or " + ideas[-1] if len(ideas) > 1 else ideas[0]) + "."


def thinned(history):
    """Every other step of a history, the latest step and the latest dev
    measurement always kept: the curves keep their shape in half the points."""
    kept = set(range(len(history) - 1, -1, -2))
    kept.add(next((i for i in range(len(history) - 1, -1, -1) if history[i].dev_accuracy is not None), 0))
    return [history[i] for i in sorted(kept)]




def first_layer_images(net, limit=MAX_FIRST_LAYER):
    """A copy of the first layer's weights as little square images: a dense
    layer's rows as 28x28 (what each unit looks for in the whole digit), a
    conv layer's filters as k x k (the stroke each one detects)."""
    weights = net.layers[0].params["W"][:limit]
    side = math.isqrt(weights.shape[1])
    return weights.reshape(len(weights), side, side).copy()


@dataclass(frozen=True)
class View:
    """What the network made of a few images at one moment of training."""

    step: int
    grid_predictions: np.ndarray               # its reading of each grid digit
    drawing: np.ndarray | None                 # the user's drawing, (28, 28) in [0, 1]
    drawing_probabilities: np.ndarray | None   # (10,) for the drawing
    first_layer: np.ndarray                    # (units, side, side) weights


@dataclass(frozen=True)
class Outcome:
    """How good the network is at the end of its run."""

    result: dict              # evaluate_run: train, dev and test accuracy
    evaluation: dict | None   # network.evaluation.evaluate on the held-out set (None if empty)
    held_out: Digits          # the official test set, or the dev set when there is none
    held_out_name: str        # "test" or "dev"
    probabilities: np.ndarray  # (n, 10) on held_out
    metadata: dict            # run_metadata, for saving the model


@dataclass(frozen=True)
class Snapshot:
    """Everything the page draws, at one moment; never changes once made."""

    state: str
    ended_as: str | None      # how training ended, known before the evaluation after it ends; None until then
    message: str              # why the run ended, or what went wrong
    queue_position: int       # 1 = next in line; 0 when not waiting
    pace: float               # the least seconds per step while watched (0: full speed)
    history: tuple            # the Progress of the steps so far (of every step, up to MAX_HISTORY)
    grid: Digits | None       # dev digits whose readings `view` holds
    view: View | None
    outcome: Outcome | None

    @property
    def ended(self):
        return self.state in ENDED

    @property
    def latest(self):
        return self.history[-1] if self.history else None

    @property
    def dev_accuracy(self):
        """The latest dev accuracy measured, or None."""
        return latest_dev_accuracy(self.history)


class TrainingWorker:
    """One training run on a thread of its own, controlled by start, pause,
    resume and stop, and watched through snapshot()."""

    def __init__(self, config, labelled, test=None, source="", drawing=None, queue=RUN_QUEUE,
                 heartbeat_timeout=HEARTBEAT_TIMEOUT, view_interval=VIEW_INTERVAL, owner=None,
                 unwatched_after=UNWATCHED_AFTER):
        """labelled: the Digits to split into train and dev; test: the
        held-out Digits (None: judge on dev); owner: who started it (one
        running run per owner).  Raises RecipeError for a recipe that cannot
        run, before any thread starts."""
        self.config = config
        config.check()
        # Every size and the run's cost checked now; the weights come when the run leaves the line.
        check_recipe_budget(config, training_size(config, len(labelled)))
        self._net = None      # run by the worker thread only, until the run is done
        self._weights = None  # the network's flat weight vector, once the run is done (see finished_network)
        self._owner = owner
        self.heartbeat_timeout = heartbeat_timeout
        self.view_interval = view_interval
        self.unwatched_after = unwatched_after
        self._inputs = (labelled, test, source)
        self._queue = queue
        self._lock = threading.Condition()
        self._state, self._ended_as, self._message = WAITING, None, ""
        self._history = []
        self._grid = self._view = self._outcome = None
        self._drawing = drawing
        self._paused = False
        self._steps_left = 0        # steps to take while paused (step())
        self._pace = 0.0            # at least this many seconds per step while watched
        self._stop_requested = False
        self._last_poll = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="training-worker", daemon=True)

    # -- the page's side -------------------------------------------------------

    def start(self) -> "TrainingWorker":
        self._last_poll = time.monotonic()
        self._thread.start()
        return self

    def pause(self) -> None:
        self._set_paused(True)

    def resume(self) -> None:
        self._set_paused(False)

    def stop(self, wait: float = 0.0) -> None:
        """End the run after the current step (well within a second); wait up
        to `wait` seconds for its training to end, so the caller can show it."""
        with self._lock:
            self._stop_requested = True
            self._lock.notify_all()
            self._lock.wait_for(lambda: self._ended_as is not None, timeout=wait)

    def set_pace(self, seconds_per_step: float) -> None:
        """Take at least this long per step while the page watches (0: full speed)."""
        with self._lock:
            self._pace = max(0.0, float(seconds_per_step))
            self._lock.notify_all()

    def step(self, n: int = 1) -> None:
        """While paused: take `n` more steps, then pause again."""
        with self._lock:
            if self._paused:
                self._steps_left = max(0, int(n))
                self._lock.notify_all()

    def set_drawing(self, drawing: np.ndarray | None) -> None:
        """The user's latest drawing, read at the next view refresh."""
        self._drawing = drawing

    def snapshot(self) -> Snapshot:
        """The run as it is now; also the heartbeat that keeps it alive."""
        position = self._queue.position(self)  # before taking our lock: see the lock order
        with self._lock:
            self._last_poll = time.monotonic()
            return Snapshot(state=self._state, ended_as=self._ended_as, message=self._message,
                            queue_position=position, pace=self._pace, history=tuple(self._history),
                            grid=self._grid,
                            view=self._view, outcome=self._outcome)

    @property
    def paused(self):
        """True from pause() until resume(), even before the current step ends."""
        return self._paused

    @property
    def done(self):
        """True once the run has ended and the worker no longer touches the network."""
        with self._lock:
            return self._state in ENDED

    def finished_network(self) -> Network | None:
        """The trained network, once nothing else runs it (built afresh over
        the run's weights); None if it never started or was let go."""
        if not self.done:
            raise RuntimeError("the network is still training")
        return None if self._weights is None else Network(self.config.architecture(), params=self._weights)

    @property
    def weights_kept(self) -> int:
        """How many weights this finished run keeps (0 while it runs, or once let go)."""
        return 0 if self._weights is None or not self.done else self._weights.size

    def let_network_go(self) -> None:
        """Forget the weights of a finished run (its results stay): the session keeps too many."""
        if self.done:
            self._weights = None

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _set_paused(self, paused):
        with self._lock:
            self._paused = paused
            self._steps_left = 0
            self._lock.notify_all()

    # -- the worker thread ------------------------------------------------------

    def _run(self):
        run_in_background()  # readings first: see priority.py
        try:
            state, message = self._run_to_end()
        except UserError as error:  # e.g. a dev set larger than the data: the page says so
            state, message = FAILED, f"Training failed: {error}"
        except Exception:  # a bug: a thread has nobody to raise to, so it goes to the log, whole
            log.exception("training run failed: %s", self.config.describe())
            state, message = FAILED, "Training failed: something went wrong (logged on the server)."
        finally:
            self._queue.leave(self)
        if self._net is not None:  # keep the weights only (see the module's docstring)
            self._weights, self._net = self._net.params, None
        self._publish_ending(state, state, message)

    def _run_to_end(self):
        if not self._queue.enter(self, self._ending, self._owner):
            return self._ending()
        self._set_state(RUNNING)
        self._net = new_network(self.config)
        data = split_for_training(self.config, *self._inputs)
        self._inputs = None  # the split holds what training needs; let an uploaded CSV go
        shown = data.dev if len(data.dev) else data.train
        with self._lock:
            self._grid = shown.subset(np.arange(min(GRID_SIZE, len(shown))))
        self._publish_view(0)
        with contextlib.closing(train_steps(self._net, self.config, data.train.images, data.train.labels,
                                            data.dev.images, data.dev.labels)) as steps:
            state, message = self._train(steps)
        if self._history and state != ABANDONED:  # nobody would look at an abandoned run's results
            self._publish_ending(EVALUATING, state, message)
            outcome = self._evaluate(data, state)
            if outcome is None:  # abandoned while being evaluated
                return self._ending()
            with self._lock:
                self._outcome = outcome
        return state, message

    def _train(self, steps):
        """Take steps until the last, a stop or divergence; (state, message)."""
        next_view = time.monotonic() + self.view_interval
        while True:
            ending = self._pause_point()
            if ending:
                return ending
            started = time.monotonic()
            try:
                progress = next(steps)
            except TrainingDiverged as error:
                self._publish_view(self._history[-1].step if self._history else 0)
                return DIVERGED, f"{error} {divergence_advice(self.config)}"
            with self._lock:
                self._history.append(progress)
                if len(self._history) > MAX_HISTORY:
                    self._history = thinned(self._history)
                stepping_done = self._paused and self._steps_left == 0
            if progress.done or stepping_done or time.monotonic() >= next_view:
                self._publish_view(progress.step)
                next_view = time.monotonic() + self.view_interval
            if progress.done:
                return FINISHED, f"Finished all {progress.total_steps} steps."
            self._keep_pace(started)

    def _keep_pace(self, started):
        """Wait out the rest of a paced step, if someone watches; stop and
        pause end the wait at once."""
        with self._lock:
            watched = time.monotonic() - self._last_poll < self.unwatched_after
            wait = self._pace - (time.monotonic() - started)
            if watched and wait > 0 and not self._paused:
                self._lock.wait_for(lambda: self._stop_requested or self._paused, timeout=wait)

    def _pause_point(self):
        """Between two steps: None to go on, or (state, message) to end.
        A paused run gives its place to the next in line until resumed, or
        until step() asks for more steps."""
        ending = self._ending()
        if ending or not self._paused:
            return ending
        if self._take_asked_step():
            return None
        self._queue.leave(self)
        self._set_state(PAUSED)
        with self._lock:
            while self._paused and not self._steps_left and not self._ending():
                self._lock.wait(CHECK_INTERVAL)
        ending = self._ending()
        if ending:
            return ending
        self._set_state(WAITING)
        if not self._queue.enter(self, self._ending, self._owner):
            return self._ending()
        self._set_state(RUNNING)
        self._take_asked_step()
        return None

    def _take_asked_step(self):
        """True (and one fewer to go) if step() asked for more steps."""
        with self._lock:
            if self._paused and self._steps_left > 0:
                self._steps_left -= 1
                return True
            return False

    def _ending(self):
        """(state, message) if the run should end now, else None."""
        with self._lock:
            if self._stop_requested:
                return STOPPED, f"Stopped after {self._history[-1].step if self._history else 0} steps."
            if time.monotonic() - self._last_poll > self.heartbeat_timeout:
                return ABANDONED, (f"Stopped by itself: its page had not looked at it for "
                                   f"{self.heartbeat_timeout:.0f} s (closed?).")
            return None

    def _set_state(self, state):
        with self._lock:
            self._state = state

    def _publish_ending(self, state, ended_as, message):
        """How training ended, for the page (and for stop's wait)."""
        with self._lock:
            self._state, self._ended_as, self._message = state, ended_as, message
            self._lock.notify_all()

    def _publish_view(self, step):
        """Read the grid digits and the drawing with the network as it is now
        (worker thread only: this runs the network)."""
        drawing = self._drawing
        view = View(step=step, grid_predictions=self._net.predict(self._grid.images), drawing=drawing,
                    drawing_probabilities=None if drawing is None else self._net.predict_proba(drawing[None])[0],
                    first_layer=first_layer_images(self._net))
        with self._lock:
            self._view = view

    def _evaluate(self, data, state):
        """Accuracies, confusion matrix and worst mistakes on the held-out
        set, and the metadata a saved model will carry; None if the page
        went away meanwhile.  Bounded: training accuracy is measured on at
        most MAX_EVALUATED images, and each part can be cancelled."""
        history = list(self._history)
        held_out, name = (data.test, "test") if data.test is not None else (data.dev, "dev")
        sampled = dataclasses.replace(data, train=data.train.subset(np.arange(min(len(data.train), MAX_EVALUATED))))
        result = evaluate_run(self._net, sampled, history)
        if self._abandoned():
            return None
        metadata = run_metadata(self.config, data, history, result)
        metadata["ended"] = state
        probabilities = self._net.predict_proba(held_out.images)
        if self._abandoned():
            return None
        evaluation = evaluate(probabilities, held_out.labels, n_wrong=N_WRONG) if len(held_out) else None
        return Outcome(result=result, evaluation=evaluation, held_out=held_out, held_out_name=name,
                       probabilities=probabilities, metadata=metadata)

    def _abandoned(self):
        with self._lock:
            return time.monotonic() - self._last_poll > self.heartbeat_timeout
