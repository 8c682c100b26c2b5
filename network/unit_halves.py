"""Two cores for a network with one hidden layer: its hidden units in two halves.

The scores of 784-128-10 are the sum of the scores of two 784-64-10 networks,
one per half of the hidden units:

    Z2 = W2 A1 + b2 = W2[:, :64] A1[:64] + W2[:, 64:] A1[64:] + b2

and backpropagation keeps them apart too: once dZ2 is known, each half's
gradients (dW2[:, half], dA1[half], dZ1[half], dW1[half], db1[half]) need
only dZ2 and that half's own values.  So each half runs forward and backward
over the whole batch on its own core, and the two meet twice a step: to add
their scores, and when both have their gradients.  Cutting the batch instead
(model.py's shards) would meet as often but multiply 64 images at a time and
add two gradient vectors; here every matrix product keeps all 128 images.

The halves are ordinary layers (Dense, Activation) whose weights and
gradients are views of the network's, so the optimiser and the model file
see one network.  A network is always computed in its halves, on two threads
or on one (`together=False`), so both give the same numbers to the last bit:
a recipe trains the same network however busy the machine is.
"""

import statistics
import time

import numpy as np

from .activations import softmax_loss
from .layers import Activation, Dense

FIRST_SHARE = 0.5  # of the hidden units, in the half this thread computes


def halves_of(layers):
    """The two half-networks of [Dense, Activation, Dense] with at least two
    hidden units, or None for any other stack (conv, dropout, deeper)."""
    if [type(layer) for layer in layers] != [Dense, Activation, Dense] or layers[0].n_out < 2:
        return None
    hidden, activation, output = layers
    cut = max(1, round(hidden.n_out * FIRST_SHARE))
    halves = []
    for units in (slice(0, cut), slice(cut, hidden.n_out)):
        first = Dense(hidden.n_in, units.stop - units.start)
        first.params = {"W": hidden.params["W"][units], "b": hidden.params["b"][units]}
        first.grads = {"W": hidden.grads["W"][units], "b": hidden.grads["b"][units]}
        last = Dense(first.n_out, output.n_out)
        last.params = {"W": output.params["W"][:, units], "b": output.params["b"]}
        last.grads = {"W": output.grads["W"][:, units], "b": output.grads["b"]}
        halves.append([first, Activation(activation.name), last])
    # The output bias is added once, by the first half: the second adds a
    # constant zero, and its gradient goes to a scratch buffer nobody reads.
    halves[1][2].params["b"] = np.zeros_like(output.params["b"])
    halves[1][2].grads["b"] = np.zeros_like(output.grads["b"])
    return halves


def forward(half, X):
    """A half's share of the scores, remembering what backward needs."""
    A = X
    for layer in half:
        A = layer.forward(A, training=True, keep=True)
    return A


def backward(half, dZ):
    """Fill a half's gradients from dZ of the scores."""
    d = dZ
    for i in range(len(half) - 1, -1, -1):
        d = half[i].backward(d, need_input_grad=i > 0)


class ThreadChoice:
    """Whether the halves run together (the second on another thread) or one
    after the other on this thread: whichever took less time lately.  On a
    busy machine the second thread can wait longer for a core than its half
    takes (a step 2x slower, README "Speed").  The latest TRIAL steps of
    each way are kept; the way in use is dropped as soon as its median is
    worse than the other's, and the other is timed again for TRIAL steps of
    every EVERY, should the machine have become quiet.  The numbers are the
    same either way: only the time changes."""

    TRIAL, EVERY = 8, 1000

    def __init__(self):
        self.seconds = {True: [], False: []}  # the latest TRIAL steps' times each way
        self.best = True
        self.steps = 0

    def together(self):
        """How the coming step runs."""
        if self.steps % self.EVERY == 0:
            self.seconds[not self.best].clear()  # a trial: the other way is timed afresh
        return self.best if self.steps % self.EVERY >= self.TRIAL else not self.best

    def record(self, together, seconds):
        self.steps += 1
        times = self.seconds[together]
        times.append(seconds)
        del times[:-self.TRIAL]
        ours, theirs = self.seconds[self.best], self.seconds[not self.best]
        if len(ours) == len(theirs) == self.TRIAL and statistics.median(ours) > statistics.median(theirs):
            self.best = not self.best


def gradient(halves, X, labels, pool=None):
    """Loss, number correct and gradients of one batch, the second half on
    `pool`'s thread when given (else after the first, on this thread)."""
    other = pool.submit(forward, halves[1], X) if pool else None
    Z = forward(halves[0], X)
    Z += other.result() if pool else forward(halves[1], X)
    loss, correct, dZ = softmax_loss(Z, labels)
    other = pool.submit(backward, halves[1], dZ) if pool else None
    backward(halves[0], dZ)
    other.result() if pool else backward(halves[1], dZ)
    return loss, correct


def chosen_gradient(halves, choice, X, labels, pool):
    """gradient(), together on `pool` or alone as `choice` says, timed for it."""
    together = choice.together()
    start = time.perf_counter()
    result = gradient(halves, X, labels, pool if together else None)
    choice.record(together, time.perf_counter() - start)
    return result
