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
calling each layer's forward (keeping what backward needs) and backward
as Network.forward and Network.backward do, and writes down what passes
between them.  So what the Inside page shows is exactly what training
computes.
"""

from dataclasses import dataclass

import numpy as np

from .activations import cross_entropy, one_hot, softmax
from .layers import Activation, Dense, Dropout
from .model import Network
from .optimizers import GradientDescent
from .shapes import as_columns


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


def dense_layers(net: Network) -> tuple[list, list]:
    """The dense layers of a dense network, input first, and the activation
    after each but the last; raises NotDense for any other network."""
    layers = [layer for layer in net.layers if not isinstance(layer, Dropout)]
    others = [layer for layer in layers if not isinstance(layer, (Dense, Activation))]
    if others:
        raise NotDense(f"{others[0].describe()} layers are not dense: this view shows dense networks only")
    dense, activations = layers[0::2], layers[1::2]
    if not (all(isinstance(layer, Dense) for layer in dense) and len(activations) == len(dense) - 1
            and all(isinstance(layer, Activation) for layer in activations)):
        raise NotDense("every dense layer but the last needs an activation, and the last feeds softmax")
    return dense, activations


def trace(net: Network, image: np.ndarray, label: int | None = None) -> Trace:
    """Run one image (28, 28) forward and, given the right `label`, backward.

    Dropout layers are left out: the trace shows the network as it reads.
    The backward pass overwrites `net.grads` (which is why the Inside page
    works on a private copy, never on a model other sessions share).
    """
    dense, activations = dense_layers(net)
    L = len(dense)
    values = {"X": as_columns(np.asarray(image)[None]).astype(net.params.dtype)}
    A = values["X"]
    for i in range(1, L + 1):
        values[f"W{i}"], values[f"b{i}"] = dense[i - 1].params["W"].copy(), dense[i - 1].params["b"].copy()
        A = values[f"Z{i}"] = dense[i - 1].forward(A, training=True, keep=True)
        if i < L:
            A = values[f"A{i}"] = activations[i - 1].forward(A, training=True, keep=True)
    Z = values[f"Z{L}"]
    values[f"A{L}"] = softmax(Z)
    names = tuple(activation.name for activation in activations)
    if label is None:
        return Trace(values, L, names, None, None)

    label = int(label)
    dZ = values[f"dZ{L}"] = values[f"A{L}"] - one_hot(np.array([label])).astype(Z.dtype)
    for i in range(L, 0, -1):
        dA = dense[i - 1].backward(dZ, need_input_grad=i > 1)
        values[f"dW{i}"], values[f"db{i}"] = dense[i - 1].grads["W"].copy(), dense[i - 1].grads["b"].copy()
        if i > 1:
            below = activations[i - 2]
            values[f"dA{i - 1}"] = dA
            values[f"f'(Z{i - 1})"] = np.asarray(below.f_deriv(values[f"Z{i - 1}"], values[f"A{i - 1}"]), dA.dtype)
            dZ = values[f"dZ{i - 1}"] = below.backward(dA)
    return Trace(values, L, names, label, cross_entropy(Z, np.array([label])))


def learn(net: Network, image: np.ndarray, label: int, alpha: float) -> Trace:
    """One step of gradient descent on one drawing: W -= alpha dW for every
    layer, with the seed's own optimiser.  Returns the trace of the step
    (the network as it was, and the gradients it took)."""
    before = trace(net, image, label)
    GradientDescent(net.params.size).step(net.params, net.grads, alpha)
    return before


def private_copy(net: Network) -> Network:
    """A network with the same architecture, weights and metadata whose
    weights can change without touching `net` (a shared, cached model)."""
    copy = Network(net.arch, dtype=net.params.dtype)
    copy.params[...] = net.params
    copy.metadata = dict(getattr(net, "metadata", {}))
    return copy
