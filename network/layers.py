"""The layers a network is stacked from.

Examples are columns, as in the seed notebook: a batch of m images is X with
shape (784, m), and a dense layer computes Z = W X + b.  Every layer has

    forward(A, training, keep) -> output; with keep=True, remembering
                                  what backward will need
    backward(dOut)             -> gradient with respect to its input

A forward pass with keep=False (the default, every prediction) changes
nothing in the layer: reading is a pure function of the weights and the
input, so readers never wait for each other.

and layers with parameters write their gradients into `self.grads`, views
into the network's single flat gradient vector (see model.py), so that the
optimiser updates every parameter with a handful of array operations.
"""

import numpy as np

from .activations import ACTIVATIONS


class Dense:
    """Z = W A + b: each output unit is a weighted sum of every input."""

    def __init__(self, n_in, n_out):
        self.n_in, self.n_out = n_in, n_out
        self.param_shapes = {"W": (n_out, n_in), "b": (n_out, 1)}

    def init_params(self, rng, scheme):
        W, b = self.params["W"], self.params["b"]
        if scheme == "uniform":  # the seed notebook: rand() - 0.5
            W[...] = rng.random(W.shape, dtype=np.float32) - np.float32(0.5)
            b[...] = rng.random(b.shape, dtype=np.float32) - np.float32(0.5)
            return
        # He keeps the variance of ReLU units steady from layer to layer;
        # Xavier (Glorot) does the same for symmetric ones like tanh.
        std = np.sqrt(2 / self.n_in) if scheme == "he" else np.sqrt(2 / (self.n_in + self.n_out))
        W[...] = rng.standard_normal(W.shape, dtype=np.float32) * np.float32(std)
        b[...] = 0

    @property
    def multiply_adds(self):
        """Of one example's forward pass."""
        return self.n_in * self.n_out

    def forward(self, A_prev, training=False, keep=False):
        if keep:
            self.A_prev = A_prev
        return self.params["W"] @ A_prev + self.params["b"]

    def backward(self, dZ, need_input_grad=True):
        # dW = dZ A_prev^T / m and db = sum(dZ) / m, as in the seed notebook,
        # dividing dZ (n_out x m) rather than dW (n_out x n_in: 6x as many
        # numbers in the first layer of a batch of 128).
        dZ_mean = dZ * (1 / dZ.shape[1])  # a Python float keeps the array's dtype
        np.matmul(dZ_mean, self.A_prev.T, out=self.grads["W"])
        np.sum(dZ_mean, axis=1, keepdims=True, out=self.grads["b"])
        # dA_prev = W^T dZ; the first layer skips it (nothing below to learn).
        return self.params["W"].T @ dZ if need_input_grad else None

    def describe(self):
        return f"dense {self.n_in}->{self.n_out}"


class Activation:
    """A = f(Z), elementwise; backward applies the chain rule dZ = dA * f'(Z)."""

    param_shapes: dict[str, tuple[int, ...]] = {}
    multiply_adds = 0

    def __init__(self, name):
        self.name = name
        self.f, self.f_deriv = ACTIVATIONS[name]

    def forward(self, Z, training=False, keep=False):
        A = self.f(Z)
        if keep:
            self.Z, self.A = Z, A
        return A

    def backward(self, dA, need_input_grad=True):
        return dA * self.f_deriv(self.Z, self.A)

    def describe(self):
        return self.name


class Dropout:
    """During training, silence each unit with probability `rate`.

    The survivors are scaled by 1 / (1 - rate) ("inverted dropout") so that
    the expected activation is unchanged and prediction needs no rescaling.
    """

    param_shapes: dict[str, tuple[int, ...]] = {}
    multiply_adds = 0

    def __init__(self, rate, rng):
        self.rate, self.rng = rate, rng
        self.mask = None

    def forward(self, A, training=False, keep=False):
        if not training or self.rate == 0:
            if keep:
                self.mask = None
            return A
        survivors = self.rng.random(A.shape, dtype=np.float32) >= self.rate
        mask = survivors * np.float32(1 / (1 - self.rate))
        if keep:
            self.mask = mask
        return A * mask

    def backward(self, dA, need_input_grad=True):
        return dA if self.mask is None else dA * self.mask

    def describe(self):
        return f"dropout {self.rate:g}"
