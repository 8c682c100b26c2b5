"""Training a hostile visitor cannot abuse (issue 14, D3 D4): budgets at
Start, networks allocated only when a run computes, one running run per
visitor (fine-tuning included), a queue that lets the others pass, a
bounded final evaluation."""

import dataclasses
import gc
import threading
import tracemalloc

import numpy as np
import pytest

import network.finetune_worker as finetune_module
import network.worker as worker_module
from network.budgets import BudgetError
from network.digits import make_mnist
from network.finetune import FinetuneRecipe
from network.finetune_worker import FinetuneWorker
from network.model import Network, architecture
from network.run_queue import RunQueue
from network.worker import RUNNING, STOPPED, WAITING
from tests.test_finetune import drawing_set
from tests.test_train_page import choose_tiny_custom_run, messages, open_page, train_tiny_run
from tests.test_worker import ENDLESS, QUICK, TEST, new_worker, steps_done, wait_for
from tests.toys import toy_images
from ui.train_runs import Run, keep_networks

MB = 1024 * 1024
TINY_FINETUNE = FinetuneRecipe(steps=6, batch_size=32, dev_size=50, eval_every=3)


@pytest.fixture(autouse=True)
def default_limits(monkeypatch):
    monkeypatch.delenv("NETWORK_MAX_PARAMS", raising=False)
    monkeypatch.delenv("NETWORK_MAX_RUN_SECONDS", raising=False)


def test_d3_a_huge_or_endless_recipe_is_refused_at_start_before_any_thread_or_weights():
    huge = dataclasses.replace(QUICK, hidden=(4096,) * 20)  # 320 M parameters, 1.3 GB of weights
    tracemalloc.start()
    try:
        with pytest.raises(BudgetError, match="parameters; this server allows at most 5,000,000"):
            new_worker(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MB
    with pytest.raises(BudgetError, match="minutes; this server allows 10"):
        new_worker(dataclasses.replace(QUICK, epochs=1_000_000))


def test_d3_a_waiting_run_holds_no_network(monkeypatch):
    monkeypatch.setenv("NETWORK_MAX_RUN_SECONDS", "0")
    queue = RunQueue(1)
    running = new_worker(ENDLESS, queue).start()
    waiting = new_worker(dataclasses.replace(ENDLESS, hidden=(2048,)), queue).start()
    try:
        wait_for(lambda: steps_done(running) > 2)
        assert waiting.snapshot().state == WAITING and waiting._net is None
        running.stop()
        wait_for(lambda: steps_done(waiting) > 0)
        assert waiting._net.n_params == 784 * 2048 + 2048 + 2048 * 10 + 10
    finally:
        running.stop()
        waiting.stop()


def test_d4_one_visitor_gets_one_place_and_the_others_pass_it_in_line(monkeypatch):
    monkeypatch.setenv("NETWORK_MAX_RUN_SECONDS", "0")
    queue = RunQueue(2)
    first = new_worker(ENDLESS, queue, owner="mallory").start()
    wait_for(lambda: steps_done(first) > 0)
    second = new_worker(ENDLESS, queue, owner="mallory").start()  # her second tab
    wait_for(lambda: second.snapshot().queue_position == 1)
    student = new_worker(ENDLESS, queue, owner="alice").start()  # behind her in line, yet computes
    try:
        wait_for(lambda: steps_done(student) > 2)
        assert second.snapshot().state == WAITING and steps_done(second) == 0
        first.stop()
        wait_for(lambda: steps_done(second) > 0)
        assert student.snapshot().state == RUNNING
    finally:
        for worker in (first, second, student):
            worker.stop()
    for worker in (first, second, student):
        worker.join(5)
        assert worker.snapshot().state == STOPPED


def test_d3_the_final_evaluation_reads_a_bounded_sample_of_the_training_images(monkeypatch):
    import network.worker as worker_module
    monkeypatch.setattr(worker_module, "MAX_EVALUATED", 50)
    worker = new_worker().start()
    wait_for(lambda: worker.snapshot().outcome is not None)
    outcome = worker.snapshot().outcome
    assert outcome.metadata["data"]["train_size"] == 500  # what it trained on, though judged on 50
    assert outcome.result["train_accuracy"] * 50 == round(outcome.result["train_accuracy"] * 50)


def test_d3_the_train_page_says_why_a_recipe_is_too_big_and_blocks_start(data_dir):
    at = open_page()
    choose_tiny_custom_run(at)
    at.text_input(key="train-hidden").input("4096, 4096, 4096").run()
    assert not at.exception, at.exception
    assert any("parameters; this server allows at most 5,000,000" in m for m in messages(at)), messages(at)
    assert at.button(key="train-start").disabled
    at.text_input(key="train-hidden").input("128").run()
    at.number_input(key="train-per-class").set_value(0)
    at.number_input(key="train-length").set_value(100_000).run()
    assert any("minutes; this server allows 10" in m for m in messages(at)), messages(at)
    assert at.button(key="train-start").disabled


def finetune_worker(queue, owner, recipe=None):
    images, labels = toy_images(800, seed=1)
    mnist = make_mnist(images[:600], labels[:600], images[600:], labels[600:], "toy MNIST")
    return FinetuneWorker(Network(architecture(hidden=(16,))), drawing_set(), mnist, recipe or TINY_FINETUNE,
                          queue=queue, owner=owner)


def test_a_visitors_fine_tuning_waits_for_their_training_run_and_others_pass_it(monkeypatch):
    monkeypatch.setenv("NETWORK_MAX_RUN_SECONDS", "0")
    queue = RunQueue(2)
    training = new_worker(ENDLESS, queue, owner="mallory").start()
    wait_for(lambda: steps_done(training) > 0)
    tuning = finetune_worker(queue, owner="mallory").start()   # her other tab, same browser
    wait_for(lambda: queue.position(tuning) == 1)
    student = new_worker(ENDLESS, queue, owner="alice").start()
    try:
        wait_for(lambda: steps_done(student) > 2)
        assert tuning.snapshot().state == "waiting"
        training.stop()
        tuning.join(10)
        assert tuning.snapshot().state == "finished", tuning.snapshot().message
    finally:
        for worker in (training, tuning, student):
            worker.stop()


def test_a_visitors_training_run_waits_for_their_fine_tuning(monkeypatch):
    monkeypatch.setenv("NETWORK_MAX_RUN_SECONDS", "0")
    computing, release = threading.Event(), threading.Event()

    class HeldFinetuning:  # holds its place in the queue until released
        def __init__(self, *args):
            self.after = None

        def steps(self):
            computing.set()
            release.wait(10)
            return iter(())

        def measure(self):
            return None

    monkeypatch.setattr(finetune_module, "Finetuning", HeldFinetuning)
    queue = RunQueue(2)
    finetune_worker(queue, owner="mallory").start()
    assert computing.wait(10)
    training = new_worker(ENDLESS, queue, owner="mallory").start()
    try:
        wait_for(lambda: queue.position(training) == 1)
        assert training.snapshot().state == WAITING and steps_done(training) == 0
        release.set()
        wait_for(lambda: steps_done(training) > 0)
    finally:
        release.set()
        training.stop()


def test_fine_tuning_is_held_to_the_training_budget(monkeypatch):
    queue = RunQueue(2)
    with pytest.raises(BudgetError, match="minutes; this server allows 10"):
        finetune_worker(queue, owner="mallory", recipe=dataclasses.replace(TINY_FINETUNE, steps=10**10))
    monkeypatch.setenv("NETWORK_MAX_PARAMS", "1000")
    with pytest.raises(BudgetError, match="parameters; this server allows at most 1,000"):
        finetune_worker(queue, owner="mallory")
    assert not queue._line and not queue._running  # nothing started


def held_after(make_runs):
    """Memory Python still holds (tracemalloc) once `make_runs()` has returned and its runs ended."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = make_runs()
        gc.collect()
        return kept, tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def finished(config, **kwargs):
    worker = new_worker(config, **kwargs).start()
    worker.join(60)
    assert worker.done
    return worker


def test_a_finished_run_keeps_its_weights_not_the_network_that_trained_them():
    cnn = dataclasses.replace(QUICK, conv=((16, 5), (32, 3)), hidden=(128,), batch_size=128, epochs=1)
    worker, held = held_after(lambda: finished(cnn))
    weights = worker.finished_network().params.nbytes   # the shipped CNN's shape: 0.4 MB
    assert held < weights + 2 * MB   # was 42 MB: gradients, the twin, the conv layers' training buffers
    same = worker.finished_network().predict_proba(TEST.images)   # the very network that was judged
    np.testing.assert_array_equal(same, worker.snapshot().outcome.probabilities)


def test_six_finished_runs_of_a_session_keep_their_results_and_at_most_5m_weights():
    wide = dataclasses.replace(QUICK, hidden=(2048,), epochs=1)   # 1.6 M weights, 6.5 MB each
    runs = []

    def six_runs():
        for number in range(1, 7):
            runs.append(Run(number, f"Run {number}", wide, finished(wide)))
            keep_networks(runs)
        return runs

    _, held = held_after(six_runs)
    kept = [run.worker.weights_kept for run in runs]
    assert kept == [0, 0, 0, 1_628_170, 1_628_170, 1_628_170]   # the newest, up to 5 M in all
    assert held < 5_000_000 * 4 + 6 * MB    # six whole networks held 133 MB
    assert all(run.worker.snapshot().outcome.result["test_accuracy"] > 0.5 for run in runs)
    assert runs[0].worker.finished_network() is None and runs[-1].worker.finished_network() is not None


def test_a_long_runs_history_is_thinned_to_a_bounded_number_of_steps(monkeypatch):
    monkeypatch.setattr(worker_module, "MAX_HISTORY", 50)
    monkeypatch.setenv("NETWORK_MAX_RUN_SECONDS", "0")
    worker = new_worker(dataclasses.replace(ENDLESS, batch_size=1, eval_every=7)).start()
    try:
        wait_for(lambda: worker.snapshot().latest is not None and worker.snapshot().latest.step > 500)
        history = worker.snapshot().history
        assert len(history) <= 50
        steps = [p.step for p in history]
        assert steps == sorted(steps) and steps[0] < 50 and steps[-1] > 500   # the whole run, evenly
        assert worker.snapshot().dev_accuracy is not None
    finally:
        worker.stop()


def test_the_page_says_when_a_runs_network_was_let_go_and_keeps_its_results(data_dir):
    at = open_page()
    train_tiny_run(at)
    assert at.button(key="save-model")
    at.session_state["train_runs"][-1].worker.let_network_go()   # what keep_networks does to an older run
    at.run()
    assert not at.exception, at.exception
    assert any("its network was let go to spare the server's memory" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "save-model"]
    assert at.get("vega_lite_chart")   # its curves and results stay
