"""The training worker: a run on its own thread, paused, stopped, queued,
abandoned, diverging; no Streamlit involved."""

import dataclasses
import threading
import time

import numpy as np
import pytest

from network.recipe_rules import RecipeError
from network.run_queue import RunQueue
from network.training import TrainConfig
from network.worker import (
    ABANDONED,
    DIVERGED,
    FAILED,
    FINISHED,
    PAUSED,
    RUNNING,
    STOPPED,
    WAITING,
    TrainingWorker,
)
from tests.toys import toy_digits

QUICK = TrainConfig(hidden=(32,), optimizer="adam", lr=0.01, batch_size=32, epochs=3, dev_size=100, eval_every=5)
ENDLESS = dataclasses.replace(QUICK, epochs=None, iterations=1_000_000)


LABELLED = toy_digits(600)


@pytest.fixture(autouse=True)
def endless_runs_allowed(monkeypatch):
    """ENDLESS runs until stopped: these tests lift the app's time limit (test_budgets.py tests it)."""
    monkeypatch.setenv("NETWORK_MAX_RUN_SECONDS", "0")
TEST = toy_digits(200, seed=0, noise=50)


def new_worker(config=QUICK, queue=None, **kwargs):
    return TrainingWorker(config, LABELLED, TEST, "toy", queue=queue or RunQueue(2), **kwargs)


def wait_for(condition, timeout=10.0):
    """Poll `condition` (which may poll a worker, keeping it alive) until true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def steps_done(worker):
    return len(worker.snapshot().history)


def test_a_run_trains_to_the_end_and_is_judged_on_the_test_set():
    drawing = TEST.images[3].astype(np.float32) / 255
    worker = new_worker(drawing=drawing).start()
    wait_for(lambda: worker.snapshot().ended)
    snap = worker.snapshot()
    assert snap.state == FINISHED, snap.message
    assert len(snap.history) == snap.history[-1].total_steps == 3 * 16  # 500 training images, batches of 32
    assert snap.dev_accuracy > 0.9
    outcome = snap.outcome
    assert outcome.held_out_name == "test" and outcome.probabilities.shape == (200, 10)
    assert outcome.result["test_accuracy"] == pytest.approx(outcome.evaluation["accuracy"])
    assert outcome.evaluation["accuracy"] > 0.9
    assert outcome.metadata["data"]["train_size"] == 500 and outcome.metadata["ended"] == FINISHED
    view = snap.view
    assert view.step == len(snap.history)
    assert view.grid_predictions.shape == (len(snap.grid),) and snap.grid.images.shape[1:] == (28, 28)
    assert view.first_layer.shape == (32, 28, 28)
    assert view.drawing_probabilities.argmax() == TEST.labels[3]
    assert worker.finished_network().accuracy(TEST.images, TEST.labels) > 0.9


def test_without_a_test_set_the_run_is_judged_on_dev():
    worker = TrainingWorker(QUICK, LABELLED, None, "toy CSV", queue=RunQueue(2)).start()
    worker.join(30)
    outcome = worker.snapshot().outcome
    assert outcome.held_out_name == "dev" and len(outcome.held_out) == 100
    assert outcome.result["test_accuracy"] is None


def test_the_network_is_not_handed_out_while_training():
    worker = new_worker(ENDLESS).start()
    try:
        with pytest.raises(RuntimeError, match="still training"):
            worker.finished_network()
    finally:
        worker.stop()
        worker.join(5)


def test_pause_holds_still_and_resume_carries_on():
    worker = new_worker(ENDLESS).start()
    wait_for(lambda: steps_done(worker) > 5)
    worker.pause()
    wait_for(lambda: worker.snapshot().state == PAUSED)
    paused_at = steps_done(worker)
    time.sleep(0.5)  # a window to watch it hold still in (not a speed limit)
    assert steps_done(worker) == paused_at
    worker.resume()
    wait_for(lambda: steps_done(worker) > paused_at + 5)
    assert worker.snapshot().state == RUNNING
    worker.stop()
    worker.join(5)
    assert worker.snapshot().state == STOPPED


def test_stop_takes_effect_after_the_step_in_progress_and_the_run_is_still_judged():
    worker = new_worker(ENDLESS).start()
    wait_for(lambda: steps_done(worker) > 10)
    asked_at = steps_done(worker)
    worker.stop(wait=1.0)
    assert worker.snapshot().ended_as == STOPPED  # known at once, while it measures accuracy
    stopped_at = steps_done(worker)
    assert stopped_at <= asked_at + 1  # at most the step in progress finished
    worker.join(10)
    snap = worker.snapshot()
    assert snap.state == STOPPED and len(snap.history) == stopped_at
    assert snap.outcome.metadata["ended"] == STOPPED  # a stopped run can be saved too
    assert snap.outcome.result["test_accuracy"] > 0.5


def test_stop_while_paused_ends_the_run():
    worker = new_worker(ENDLESS).start()
    wait_for(lambda: steps_done(worker) > 3)
    worker.pause()
    wait_for(lambda: worker.snapshot().state == PAUSED)
    worker.stop()
    worker.join(5)
    assert worker.snapshot().state == STOPPED


def test_divergence_ends_the_run_with_advice_and_raises_nothing():
    raised = []
    threading.excepthook, original = (lambda args: raised.append(args)), threading.excepthook
    try:
        config = dataclasses.replace(QUICK, optimizer="gd", lr=10.0, epochs=20, batch_size=50)
        worker = new_worker(config).start()
        worker.join(30)
    finally:
        threading.excepthook = original
    snap = worker.snapshot()
    assert not raised
    assert snap.state == DIVERGED
    assert "diverged" in snap.message and "learning rate" in snap.message
    assert np.isfinite(worker.finished_network().params).all()  # the last good weights


def test_bad_data_ends_the_run_with_the_message():
    worker = new_worker(dataclasses.replace(QUICK, dev_size=5000)).start()
    worker.join(10)
    snap = worker.snapshot()
    assert snap.state == FAILED and "dev set size" in snap.message


def test_a_bad_recipe_is_refused_before_any_thread_starts():
    with pytest.raises(RecipeError, match="learning rate"):
        new_worker(dataclasses.replace(QUICK, lr=0))


def test_two_workers_train_at_the_same_time():
    queue = RunQueue(2)
    first, second = new_worker(ENDLESS, queue).start(), new_worker(ENDLESS, queue).start()
    try:
        wait_for(lambda: steps_done(first) > 5 and steps_done(second) > 5)
        before = steps_done(first), steps_done(second)
        wait_for(lambda: steps_done(first) > before[0] + 5 and steps_done(second) > before[1] + 5)
    finally:
        first.stop()
        second.stop()
    first.join(5)
    second.join(5)


def test_the_queue_lets_only_its_limit_run_and_the_rest_wait_in_line():
    queue = RunQueue(1)
    workers = [new_worker(ENDLESS, queue).start() for _ in range(3)]
    try:
        wait_for(lambda: steps_done(workers[0]) > 3)
        assert [w.snapshot().queue_position for w in workers] == [0, 1, 2]
        assert [w.snapshot().state for w in workers[1:]] == [WAITING, WAITING]
        assert steps_done(workers[1]) == steps_done(workers[2]) == 0
        workers[0].stop()
        wait_for(lambda: steps_done(workers[1]) > 3)
        assert workers[2].snapshot().queue_position == 1
        # A paused run gives its place to the next in line.
        workers[1].pause()
        wait_for(lambda: steps_done(workers[2]) > 3)
        workers[1].resume()
        wait_for(lambda: workers[1].snapshot().queue_position == 1)
        assert workers[1].snapshot().state == WAITING
    finally:
        for worker in workers:
            worker.stop()
    for worker in workers:
        worker.join(5)
        assert worker.snapshot().state == STOPPED


def test_a_stopped_run_that_never_started_leaves_the_line():
    queue = RunQueue(1)
    running, waiting = new_worker(ENDLESS, queue).start(), new_worker(ENDLESS, queue).start()
    wait_for(lambda: waiting.snapshot().queue_position == 1)
    waiting.stop()
    waiting.join(2)
    snap = waiting.snapshot()
    assert snap.state == STOPPED and snap.history == () and snap.outcome is None
    assert queue.position(waiting) == 0
    running.stop()
    running.join(5)


def test_an_abandoned_run_stops_itself_when_nobody_polls_it():
    queue = RunQueue(2)
    abandoned = new_worker(ENDLESS, queue, heartbeat_timeout=0.5).start()
    watched = new_worker(ENDLESS, queue, heartbeat_timeout=0.5).start()
    wait_for(lambda: watched.snapshot() and abandoned.done, timeout=30)  # polls `watched` only
    assert abandoned.snapshot().state == ABANDONED
    assert abandoned.snapshot().outcome is None  # nobody is there to read results
    assert "had not looked at it" in abandoned.snapshot().message
    for _ in range(10):  # a window to watch the polled run carry on in (not a speed limit)
        time.sleep(0.1)
        assert watched.snapshot().state == RUNNING
    watched.stop()
    watched.join(5)
    assert watched.snapshot().state == STOPPED


def wall_time(worker, poll=True):
    """Seconds from start to the end of training, polling (watching) or not."""
    started = time.monotonic()
    worker.start()
    # `done` looks without polling, as a closed tab would; snapshot() polls, as a page does.
    wait_for(lambda: (poll and worker.snapshot(), worker.done)[1], timeout=60)
    return time.monotonic() - started


def test_a_paced_run_is_slowed_between_steps_only_while_watched():
    pace = 0.1  # seconds per step; QUICK takes 48 steps
    full = wall_time(new_worker())
    paced = new_worker()
    paced.set_pace(pace)
    watched = wall_time(paced)
    unwatched = new_worker(unwatched_after=0.0)
    unwatched.set_pace(pace)
    alone = wall_time(unwatched)
    assert watched >= 47 * pace and watched > full  # each step but the last waits out its pace
    assert alone < watched / 2                       # nobody watching: full speed
    snap = paced.snapshot()
    assert snap.state == FINISHED and snap.latest.seconds < watched  # the maths' time excludes the waits


def test_one_step_and_one_epoch_while_paused():
    worker = new_worker(ENDLESS)
    worker.start()
    worker.pause()
    wait_for(lambda: worker.snapshot().state == PAUSED)
    before = steps_done(worker)
    worker.step(1)
    wait_for(lambda: steps_done(worker) == before + 1 and worker.snapshot().state == PAUSED)
    worker.step(16)  # one epoch of QUICK's 500 images in batches of 32
    wait_for(lambda: steps_done(worker) == before + 17 and worker.snapshot().state == PAUSED)
    assert worker.snapshot().view.step == before + 17  # the page sees the network after the steps
    worker.resume()
    wait_for(lambda: steps_done(worker) > before + 20)
    worker.stop(wait=5)
    assert worker.snapshot().ended_as == STOPPED


@pytest.mark.parametrize("settings, advice, not_advised", [
    ({"optimizer": "adam", "init": "he"}, "10 times smaller", ["Adam", "He init"]),
    ({"optimizer": "gd", "init": "uniform"}, "the Adam optimiser", []),
])
def test_divergence_advice_comes_from_the_run_itself(settings, advice, not_advised):
    from network.worker import divergence_advice
    text = divergence_advice(dataclasses.replace(QUICK, **settings))
    assert advice in text
    assert not any(word in text for word in not_advised), text
