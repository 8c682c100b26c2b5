"""The second half of a large batch, computed in a worker process: the same
numbers as computing it here, whatever happens to the worker."""

import dataclasses
import os

import numpy as np
import pytest

from network import model, second_half
from network.augment import AUGMENTATIONS
from network.model import Network, architecture
from network.training import TrainConfig, new_network, train_steps
from tests.toys import toy_images

ARCH = architecture(hidden=(16,), conv=((4, 5), (8, 3)), dropout=0.25)


@pytest.fixture
def halves(monkeypatch):
    """Every batch of two or more images is cut in halves."""
    monkeypatch.setattr(model, "MIN_HALF_WORK", 1)


def here_only(monkeypatch):
    """The worker is never free: every half is computed in this process."""
    monkeypatch.setattr(second_half.WORKER, "take", lambda: None)


def batch(m=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((784, m), dtype=np.float32), rng.integers(0, 10, m)


def steps(net, n=3, seed=0):
    """Losses, numbers correct and gradients of n steps (dropout draws anew each step)."""
    out = []
    for i in range(n):
        X, labels = batch(seed=seed + i)
        loss, correct = net.gradient(X, labels)
        out.append((loss, correct, net.grads.copy()))
    return out


def test_the_worker_computes_what_this_process_computes(halves, monkeypatch):
    assert second_half.WORKER.wait_until_ready()
    by_worker = Network(ARCH, seed=1)
    from_worker = steps(by_worker)
    assert by_worker.second_half.answered == 3
    by_worker.done_training()
    here_only(monkeypatch)
    by_here = Network(ARCH, seed=1)
    for (loss, correct, grads), (loss_here, correct_here, grads_here) in zip(from_worker, steps(by_here)):
        assert (loss, correct) == (loss_here, correct_here)
        np.testing.assert_array_equal(grads, grads_here)


def test_a_worker_that_dies_loses_no_step(halves, monkeypatch):
    """Killed between two steps, the worker's half is computed here, with
    the same dropout masks; a new worker starts once RETRY_SECONDS pass."""
    monkeypatch.setattr(second_half, "RETRY_SECONDS", 0)
    assert second_half.WORKER.wait_until_ready()
    first, reference = Network(ARCH, seed=2), Network(ARCH, seed=2)
    expected = steps(reference, 4)
    reference.done_training()
    got = steps(first, 2)
    pid = second_half.worker_pid()
    os.kill(pid, 9)
    second_half.WORKER.process.wait()
    got += steps(first, 2, seed=2)
    first.done_training()
    for (loss, correct, grads), (loss_expected, correct_expected, grads_expected) in zip(got, expected):
        assert (loss, correct) == (loss_expected, correct_expected)
        np.testing.assert_array_equal(grads, grads_expected)
    assert second_half.worker_pid() not in (None, pid)


def test_training_never_waits_for_the_worker_to_start(halves):
    """While a new worker loads Python and NumPy, halves are computed here."""
    second_half.WORKER.stop()
    net = Network(ARCH, seed=4)
    net.gradient(*batch())
    assert second_half.worker_pid() is not None and not second_half.WORKER.ready
    assert net.second_half.answered == 0  # the half was computed here
    net.done_training()
    assert second_half.WORKER.wait_until_ready()


def test_a_run_gives_its_shared_memory_back(halves):
    assert second_half.WORKER.wait_until_ready()
    net = Network(ARCH, seed=3)
    net.gradient(*batch())
    name = net.second_half.memory.name
    assert os.path.exists(f"/dev/shm/{name}")
    net.done_training()
    assert not os.path.exists(f"/dev/shm/{name}")
    net.gradient(*batch())  # training again gets a new block
    assert os.path.exists(f"/dev/shm/{net.second_half.memory.name}")
    net.done_training()


def test_full_batch_training_in_halves_is_the_same_anywhere(halves, monkeypatch):
    """The whole training set, the same every step, is copied to the
    worker once; the steps still match those computed here."""
    assert second_half.WORKER.wait_until_ready()
    images, labels = toy_images(120)
    config = TrainConfig(hidden=(16,), optimizer="gd", lr=0.1, batch_size=None, epochs=None, iterations=4,
                         dev_size=0)
    by_worker = new_network(config)
    losses = [p.loss for p in train_steps(by_worker, config, images, labels)]
    here_only(monkeypatch)
    by_here = new_network(config)
    assert [p.loss for p in train_steps(by_here, dataclasses.replace(config), images, labels)] == losses
    np.testing.assert_array_equal(by_worker.params, by_here.params)


@pytest.mark.parametrize("conv", [((4, 5),), ()])
def test_distorted_batches_are_made_and_learnt_the_same_anywhere(halves, monkeypatch, conv):
    """The worker distorts its half of a batch itself (most of the
    distortion's work): training gives the same network as here."""
    assert second_half.WORKER.wait_until_ready()
    images, labels = toy_images(200)
    config = TrainConfig(hidden=(16,), conv=conv, dropout=0.25, optimizer="adam", lr=0.01, batch_size=32,
                         epochs=None, iterations=5, dev_size=0, augment=AUGMENTATIONS)
    by_worker = new_network(config)
    losses = [p.loss for p in train_steps(by_worker, config, images, labels)]
    assert by_worker.second_half.answered == 5
    here_only(monkeypatch)
    by_here = new_network(config)
    assert [p.loss for p in train_steps(by_here, config, images, labels)] == losses
    np.testing.assert_array_equal(by_worker.params, by_here.params)


def test_without_room_in_shared_memory_the_halves_are_computed_here(halves, monkeypatch):
    """A block that would not fit in /dev/shm (where writing past its size
    kills the process) is never made: this process computes both halves."""
    assert second_half.WORKER.wait_until_ready()
    monkeypatch.setattr(os, "statvfs", lambda path: os.statvfs_result((4096, 4096, 10, 10, 10, 0, 0, 0, 0, 255)))
    net, reference = Network(ARCH, seed=5), Network(ARCH, seed=5)
    got = steps(net, 2)
    assert net.second_half.answered == 0 and net.second_half.memory is None
    here_only(monkeypatch)
    for (loss, correct, grads), (loss_here, correct_here, grads_here) in zip(got, steps(reference, 2)):
        assert (loss, correct) == (loss_here, correct_here)
        np.testing.assert_array_equal(grads, grads_here)


def test_a_bigger_batch_gets_a_bigger_block(halves):
    """A network whose batches grow (fine-tuning, a second recipe) moves to a
    new block and gives the old one back."""
    assert second_half.WORKER.wait_until_ready()
    net, reference = Network(ARCH, seed=6), Network(ARCH, seed=6)
    net.gradient(*batch(16))
    small = net.second_half.memory.name
    loss, correct = net.gradient(*batch(64, seed=1))
    assert net.second_half.memory.name != small and not os.path.exists(f"/dev/shm/{small}")
    assert net.second_half.answered == 2
    reference.gradient(*batch(16))
    assert reference.gradient(*batch(64, seed=1)) == (loss, correct)
    np.testing.assert_array_equal(net.grads, reference.grads)
    net.done_training()
    reference.done_training()
