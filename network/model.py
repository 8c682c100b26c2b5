"""The network: a stack of layers ending in softmax.

Forward propagation, for the seed's 784-10-10 network:

    Z1 = W1 X + b1      A1 = ReLU(Z1)
    Z2 = W2 A1 + b2     A2 = softmax(Z2)

Backward propagation, from the loss down:

    dZ2 = A2 - one_hot(Y)
    dW2 = dZ2 A1^T / m,  db2 = sum(dZ2) / m
    dZ1 = W2^T dZ2 * ReLU'(Z1)
    dW1 = dZ1 X^T / m,   db1 = sum(dZ1) / m

Deeper networks repeat the middle lines once per layer.  All weights and
biases live in one flat float32 vector `params` (the layers hold views of
it), and all gradients in `grads`, so an optimiser step is a few whole-array
operations whatever the architecture.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

from .activations import ACTIVATIONS, RISING, softmax, softmax_loss
from .conv import Conv2D, MaxPool2D, PooledConv
from .errors import UserError
from .layers import Activation, Dense, Dropout
from .memory import keep_freed_memory
from .recipe_rules import INITS, RULES
from .second_half import SecondHalf
from .shapes import IMAGE_SHAPE, N_CLASSES, SIDE, as_columns

keep_freed_memory()  # once per process: see memory.py

# A training batch is cut in two halves, one per core of the 2-core
# machines this runs on (fixed, not the core count, so that a recipe trains
# the same network everywhere), when each half is at least MIN_HALF_WORK
# multiply-adds of forward pass: the second half goes to a worker process
# (second_half.py), and handing it over costs about 0.2 ms a step (the
# weights and the half batch copied to shared memory, a line each way on a
# pipe): 784-128-10 (6.5 M a half at batch 128) trained as fast in halves as
# in one piece (0.406 and 0.408 s an epoch), 784-256-10 (13 M) 9% faster,
# the CNN (51 M) 1.8x faster, on a quiet machine (scripts/shard_choice.py;
# README, "Speed").
MIN_HALF_WORK = 10_000_000


@cache
def blas_threads():
    """The BLAS libraries' thread settings.  Training's matrix products get
    one BLAS thread each, always: OpenBLAS threads that do not both get a
    core spin waiting for each other (an epoch 10x slower, measured on this
    shared machine), and a product split across threads can round
    differently (784-256-10's first layer does), so a recipe would not train
    the same network in the app (BLAS on one thread, ui/__init__.py) and on
    the command line."""
    return ThreadpoolController()


class ArchitectureError(UserError):
    """An architecture description that does not make a network."""


def architecture(hidden=(128,), activation="relu", conv=(), dropout=0.0, init="he"):
    """Describe a network as plain data (it is saved in every model file).

    conv: (filters, kernel) pairs; each becomes conv -> activation -> 2x2 max-pool.
    hidden: widths of the dense hidden layers, each followed by the activation
    (and dropout, if any).  The output layer of 10 units is always added.
    """
    layers = []
    for filters, kernel in conv:
        layers += [{"type": "conv", "filters": int(filters), "kernel": int(kernel)},
                   {"type": "activation", "name": activation},
                   {"type": "maxpool", "size": 2}]
    for units in hidden:
        layers += [{"type": "dense", "units": int(units)}, {"type": "activation", "name": activation}]
        if dropout:
            layers.append({"type": "dropout", "rate": float(dropout)})
    layers.append({"type": "dense", "units": N_CLASSES})
    return {"input": list(IMAGE_SHAPE), "init": init, "layers": layers}


def build_layers(arch, rng):
    """Turn an architecture description into layer objects, checking every size."""
    if not isinstance(arch, dict) or not isinstance(arch.get("layers"), list) or not arch["layers"]:
        raise ArchitectureError("architecture must have a non-empty list of layers")
    if arch.get("init") not in INITS:
        raise ArchitectureError(f"unknown initialisation {arch.get('init')!r}; expected one of {', '.join(INITS)}")
    shape = tuple(IMAGE_SHAPE)
    layers = []
    for spec in arch["layers"]:
        kind = spec.get("type") if isinstance(spec, dict) else None
        try:
            if kind == "dense":
                units = _positive_int(spec, "units", RULES["hidden"].high)
                layer = Dense(int(np.prod(shape)), units)
                shape = (units,)
            elif kind == "conv":
                if len(shape) != 3:
                    raise ArchitectureError("a conv layer must come before the dense layers")
                layer = Conv2D(shape, _positive_int(spec, "filters", RULES["filters"].high),
                               _positive_int(spec, "kernel", shape[1]))
                shape = layer.out_shape
            elif kind == "maxpool":
                size = _positive_int(spec, "size", RULES["pool"].high)
                if len(shape) != 3 or shape[1] % size or shape[2] % size:
                    raise ArchitectureError(f"max-pool {size} does not divide the image shape {shape}")
                layer = MaxPool2D(shape, size)
                shape = layer.out_shape
            elif kind == "activation":
                if spec.get("name") not in ACTIVATIONS:
                    raise ArchitectureError(f"unknown activation {spec.get('name')!r}; "
                                            f"expected one of {', '.join(ACTIVATIONS)}")
                layer = Activation(spec["name"])
            elif kind == "dropout":
                rate = spec.get("rate")
                if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                    raise ArchitectureError("dropout rate must be in [0, 1)")
                layer = Dropout(float(rate), rng)
            else:
                raise ArchitectureError(f"unknown layer type {kind!r}")
        except (TypeError, AttributeError) as error:
            raise ArchitectureError(f"bad layer description {spec!r}") from error
        layer.out_shape = shape
        layers.append(layer)
    if not isinstance(layers[-1], Dense) or shape != (N_CLASSES,):
        raise ArchitectureError("the last layer must be dense with 10 units")
    return layers


def fused(layers):
    """The layers as the forward and backward passes run them: each conv ->
    rising activation -> max-pool as one PooledConv (conv.py), the others as
    they are."""
    stages, i = [], 0
    while i < len(layers):
        block = layers[i:i + 3]
        if [type(layer) for layer in block] == [Conv2D, Activation, MaxPool2D] and block[1].name in RISING:
            stages.append(PooledConv(*block))
            i += 3
        else:
            stages.append(layers[i])
            i += 1
    return stages


def _positive_int(spec, key, limit):
    value = spec.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
        raise ArchitectureError(f"{spec.get('type')} layer: {key} must be a whole number from 1 to {limit}")
    return value


@dataclass(frozen=True)
class Reading:
    """How a network read one image (see Network.explain)."""

    probabilities: np.ndarray   # (10,)
    digit: int
    saliency: np.ndarray        # (28, 28)
    activations: list           # (description, values) per hidden layer


class Network:
    """A feed-forward network trained with softmax + cross-entropy."""

    metadata: dict  # what its model file records (modelfile.py); set when saved or loaded

    def __init__(self, arch, seed=0, dtype=np.float32, params=None):
        # dtype is float32 everywhere but in the gradient-check test, which
        # needs float64 for finite differences to be accurate.
        self.arch, self.seed = arch, seed
        self.rng = np.random.default_rng(seed)
        self.layers = build_layers(arch, self.rng)
        sizes = [int(np.prod(s)) for layer in self.layers for s in layer.param_shapes.values()]
        new = params is None
        self.params = np.zeros(sum(sizes), dtype=dtype) if new else params
        self.grads = np.zeros_like(self.params)
        self.stages = fused(self.layers)
        self.multiply_adds = sum(layer.multiply_adds for layer in self.layers)  # of one example's forward pass
        self.weight_views = []  # L2 decays weights, never biases
        self.second_half = None  # how the second half of a large batch is computed (see gradient)
        offset = 0
        for layer in self.layers:
            layer.params, layer.grads = {}, {}
            for name, shape in layer.param_shapes.items():
                size = int(np.prod(shape))
                layer.params[name] = self.params[offset:offset + size].reshape(shape)
                layer.grads[name] = self.grads[offset:offset + size].reshape(shape)
                offset += size
            if layer.param_shapes:
                if new:
                    layer.init_params(self.rng, arch["init"])
                self.weight_views.append((layer.params["W"], layer.grads["W"]))

    def twin(self, seed=0):
        """A network that reads these very weights (not a copy) but has its own
        layers, so its own forward-pass memory and gradients: a backward pass
        that does not disturb anyone else using this network."""
        return Network(self.arch, seed, self.params.dtype, params=self.params)

    # -- the maths -----------------------------------------------------------

    def forward(self, X, training=False, keep=None):
        """Scores Z of the last layer (10, m) for the columns of X.

        training: use dropout.  keep: remember in the layers what backward
        needs (default: when training); without it the pass changes nothing,
        so any number of threads can read with one network at once."""
        keep = training if keep is None else keep
        A = X
        for stage in self.stages:
            A = stage.forward(A, training, keep)
        return A

    def backward(self, dZ, need_input_grad=False):
        """Propagate dZ of the last layer down, filling `grads`; returns dX
        when asked (the saliency map), else None."""
        d = dZ
        for i in range(len(self.stages) - 1, -1, -1):
            d = self.stages[i].backward(d, need_input_grad=i > 0 or need_input_grad)
        return d

    def gradient(self, X, labels, l2=0.0):
        """Forward, loss and backward on one batch: X (784, m), or a batch
        that makes its columns when asked for (augment.DistortedBatch).

        Returns (loss, number correct) and leaves dLoss/dparams in `grads`.
        A large batch is cut in two halves whose gradients are computed at
        once, the second by a worker process (second_half.py), and
        averaged: the same gradient, up to the order of the sums.
        """
        m = X.shape[1]
        made = hasattr(X, "columns")  # a batch whose columns are made when asked for (augment.DistortedBatch)
        with blas_threads().limit(limits=1, user_api="blas"):
            if m * self.multiply_adds < 2 * MIN_HALF_WORK:
                loss, correct = self.shard_gradient(X.columns() if made else X, labels)
            else:
                if self.second_half is None:
                    self.second_half = SecondHalf(self)
                a = m // 2
                self.second_half.begin(X, a, labels)
                try:
                    first_loss, first_correct = self.shard_gradient(X.columns(0, a) if made else X[:, :a],
                                                                    labels[:a])
                finally:
                    second_loss, second_correct, second_grads = self.second_half.end()
                loss = (first_loss * a + second_loss * (m - a)) / m
                correct = first_correct + second_correct
                share = self.grads.dtype.type  # the mean over the batch of each half's mean
                self.grads *= share(a / m)
                second_grads *= share((m - a) / m)  # in place: no fresh array each step
                self.grads += second_grads
        if l2:
            for W, dW in self.weight_views:
                dW += np.float32(l2) * W
                loss += 0.5 * l2 * float(np.vdot(W, W))
        return loss, correct

    def done_training(self):
        """Give back what training in halves holds (shared memory)."""
        if self.second_half is not None:
            self.second_half.release()

    def shard_gradient(self, X, labels):
        """The loss, number correct and (in `grads`) gradient of one batch."""
        loss, correct, dZ = softmax_loss(self.forward(X, training=True), labels)
        self.backward(dZ)
        return loss, correct

    # -- using a trained network --------------------------------------------

    def predict_proba(self, images, batch_size=2000):
        """Class probabilities (m, 10) for images (m, 28, 28) or (m, 784)."""
        images = np.asarray(images)
        out = np.empty((images.shape[0], N_CLASSES), dtype=np.float32)
        for start in range(0, images.shape[0], batch_size):
            X = as_columns(images[start:start + batch_size])
            out[start:start + batch_size] = softmax(self.forward(X)).T
        return out

    def predict(self, images):
        return self.predict_proba(images).argmax(axis=1)

    def accuracy(self, images, labels):
        return float(np.mean(self.predict(images) == labels)) if len(labels) else float("nan")

    def hidden_activations(self, image):
        """What each hidden layer computes for one image: a list of
        (description, activations) pairs, conv feature maps as (F, H, W)."""
        A = as_columns(image[None])
        result = []
        for i, layer in enumerate(self.layers[:-1]):
            A = layer.forward(A)
            if isinstance(layer, Activation):
                description = f"{self.layers[i - 1].describe()} {layer.name}"
                result.append((description, A[:, 0].reshape(layer.out_shape).copy()))
        return result

    def saliency(self, image, digit):
        """d(score of `digit`) / d(input pixels), as a 28x28 map: which pixels
        would most raise (positive) or lower (negative) the network's belief."""
        reader = self.twin()  # so that readers never share forward-pass memory
        X = as_columns(image[None])
        Z = reader.forward(X, keep=True)
        dZ = np.zeros_like(Z)
        dZ[digit, 0] = 1
        dX = reader.backward(dZ, need_input_grad=True)
        return dX[:, 0].reshape(SIDE, SIDE)

    def explain(self, image):
        """Everything there is to show about how one image (28, 28) is read:
        the probabilities, the digit, its saliency map and the hidden layers'
        activations."""
        probabilities = self.predict_proba(image[None])[0]
        digit = int(probabilities.argmax())
        return Reading(probabilities, digit, self.saliency(image, digit), self.hidden_activations(image))

    def describe(self):
        """A one-line architecture, e.g. '784-128-10 relu' or
        'conv 8x5x5, maxpool 2x2, conv 16x3x3, maxpool 2x2, 400-64-10 relu'."""
        convs = [layer.describe() for layer in self.layers if isinstance(layer, (Conv2D, MaxPool2D))]
        dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        widths = "-".join(str(w) for w in [dense[0].n_in] + [d.n_out for d in dense])
        acts = sorted({layer.name for layer in self.layers if isinstance(layer, Activation)})
        return ", ".join(convs + [f"{widths} {'/'.join(acts)}".strip()])

    @property
    def n_params(self):
        return self.params.size

