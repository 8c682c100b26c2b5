"""One drawing through a dense network, every number named as in the seed
notebook: the forward pass, the loss and one gradient step (m = 1).

    X                       the 784 pixels as a column
    Z1 = W1 X + b1          A1 = ReLU(Z1)          ... one pair per layer
    ZL = WL A(L-1) + bL     AL = softmax(ZL)
    dZL = AL - one_hot(Y)
    dWl = dZl A(l-1)^T,     dbl = dZl
    dA(l-1) = Wl^T dZl,     dZ(l-1) = dA(l-1) * ReLU'(Z(l-1))
    Wl -= alpha dWl,        bl -= alpha dbl

Nothing here redoes the maths: trace() walks the network's own layers,
calling each layer's forward and backward as Network.forward and
Network.backward do, and writes down what passes between them.  So what the
Inside page shows is exactly what training computes.
"""

from dataclasses import dataclass

import numpy as np

from .activations import cross_entropy, one_hot, softmax
from .layers import Activation, Dense, Dropout
from .model import Network, as_columns
from .optimizers import GradientDescent


class NotDense(ValueError):
    """A network with layers other than dense ones and their activations."""


@dataclass(frozen=True)
class Trace:
    """Everything one example does in a network: `values` maps the notebook's
    names ("X", "W1", "b1", "Z1", "A1", ..., "dZ2", "dW2", "db2", "dA1",
    "f'(Z1)", "dZ1", ...) to float arrays, columns as in the maths.  Weights are copies
    taken before any step.  `label` is the digit taught (None: forward only),
    `activations` the name of each hidden layer's function."""

    values: dict
    n_layers: int
    activations: tuple
    label: int | None
    loss: float | None

    def __getitem__(self, name):
        return self.values[name]

    @property
    def probabilities(self):
        return self.values[f"A{self.n_layers}"][:, 0]

    @property
    def digit(self):
        return int(self.probabilities.argmax())


def dense_layers(net):
    """The (Dense, Activation or None) pairs of a dense network, input first;
    raises NotDense for a network with convolutions."""
    pairs, layers = [], [layer for layer in net.layers if not isinstance(layer, Dropout)]
    for layer in layers:
        if isinstance(layer, Dense):
            pairs.append([layer, None])
        elif isinstance(layer, Activation) and pairs and pairs[-1][1] is None:
            pairs[-1][1] = layer
        else:
            raise NotDense(f"{layer.describe()} layers are not dense: this view shows dense networks only")
    if any(activation is None for _, activation in pairs[:-1]) or pairs[-1][1] is not None:
        raise NotDense("every dense layer but the last needs an activation, and the last feeds softmax")
    return [tuple(pair) for pair in pairs]


def trace(net, image, label=None):
    """Run one image (28, 28) forward and, given the right `label`, backward.

    Dropout layers are left out: the trace shows the network as it reads.
    The backward pass overwrites `net.grads` (which is why the Inside page
    works on a private copy, never on a model other sessions share).
    """
    pairs = dense_layers(net)
    values = {"X": as_columns(np.asarray(image)[None]).astype(net.params.dtype)}
    A = values["X"]
    for l, (dense, activation) in enumerate(pairs, start=1):
        values[f"W{l}"], values[f"b{l}"] = dense.params["W"].copy(), dense.params["b"].copy()
        A = values[f"Z{l}"] = dense.forward(A, training=True)
        if activation is not None:
            A = values[f"A{l}"] = activation.forward(A, training=True)
    L = len(pairs)
    Z = values[f"Z{L}"]
    values[f"A{L}"] = softmax(Z)
    activations = tuple(activation.name for _, activation in pairs[:-1])
    if label is None:
        return Trace(values, L, activations, None, None)

    label = int(label)
    dZ = values[f"dZ{L}"] = values[f"A{L}"] - one_hot(np.array([label])).astype(Z.dtype)
    for l in range(L, 0, -1):
        dense, _ = pairs[l - 1]
        dA = dense.backward(dZ, need_input_grad=l > 1)
        values[f"dW{l}"], values[f"db{l}"] = dense.grads["W"].copy(), dense.grads["b"].copy()
        if l > 1:
            below = pairs[l - 2][1]
            values[f"dA{l - 1}"] = dA
            values[f"f'(Z{l - 1})"] = np.asarray(below.f_deriv(values[f"Z{l - 1}"], values[f"A{l - 1}"]), dA.dtype)
            dZ = values[f"dZ{l - 1}"] = below.backward(dA)
    return Trace(values, L, activations, label, cross_entropy(Z, np.array([label])))


def learn(net, image, label, alpha):
    """One step of gradient descent on one drawing: W -= alpha dW for every
    layer, with the seed's own optimiser.  Returns the trace of the step
    (the network as it was, and the gradients it took)."""
    before = trace(net, image, label)
    GradientDescent(net.params.size).step(net.params, net.grads, alpha)
    return before


def private_copy(net):
    """A network with the same architecture, weights and metadata whose
    weights can change without touching `net` (a shared, cached model)."""
    copy = Network(net.arch, dtype=net.params.dtype)
    copy.params[...] = net.params
    copy.metadata = dict(getattr(net, "metadata", {}))
    return copy
