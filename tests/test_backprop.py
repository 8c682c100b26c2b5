"""network/backprop.py: the Inside page's trace is the engine's own maths."""

import numpy as np
import pytest

from network.activations import cross_entropy, softmax
from network.backprop import NotDense, learn, private_copy, trace
from network.model import Network, architecture


def float64_network(hidden, activation="relu", seed=0):
    """A float64 network (finite differences need it) with non-zero biases,
    so that no ReLU unit sits on its kink at 0."""
    net = Network(architecture(hidden=hidden, activation=activation, init="xavier"), seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if "b" in layer.params:
            layer.params["b"][...] = rng.uniform(-0.5, 0.5, layer.params["b"].shape)
    return net


def an_image(seed=1):
    return np.random.default_rng(seed).random((28, 28)).astype(np.float32)


def gradient_vector(net, t):
    """The trace's dW and db laid out as the network's flat `grads` vector."""
    names = [f"d{name}{i}" for i in range(1, t.n_layers + 1) for name in ("W", "b")]
    return np.concatenate([t[name].ravel() for name in names])


@pytest.mark.parametrize("hidden", [(10,), (64, 32), (12, 8, 6)])
def test_forward_names_every_intermediate_and_matches_the_network(hidden):
    net = Network(architecture(hidden=hidden, init="uniform"), seed=3)
    image = an_image()
    t = trace(net, image)
    L = len(hidden) + 1
    assert t.n_layers == L and t.label is None and t.activations == ("relu",) * len(hidden)
    assert t["X"].shape == (784, 1) and t["X"].dtype == np.float32
    np.testing.assert_array_equal(t["X"][:, 0], image.ravel())
    for i in range(1, L + 1):
        np.testing.assert_allclose(t[f"Z{i}"], t[f"W{i}"] @ (t["X"] if i == 1 else t[f"A{i - 1}"]) + t[f"b{i}"],
                                   rtol=1e-5, atol=1e-5)
    for i in range(1, L):
        np.testing.assert_array_equal(t[f"A{i}"], np.maximum(t[f"Z{i}"], 0))
    np.testing.assert_allclose(t.probabilities, net.predict_proba(image[None])[0], rtol=1e-5)
    assert t.digit == int(net.predict(image[None])[0])


@pytest.mark.parametrize("hidden,activation", [((10,), "relu"), ((64, 32), "relu"), ((9, 7), "tanh")])
def test_gradients_are_the_engines_gradients(hidden, activation):
    net = float64_network(hidden, activation)
    image, label = an_image(), 7
    t = trace(net, image, label)
    L = t.n_layers
    np.testing.assert_allclose(t[f"dZ{L}"][:, 0], t.probabilities - np.eye(10)[label])
    engine = private_copy(net)
    loss, _ = engine.gradient(image.reshape(784, 1).astype(np.float64), np.array([label]))
    assert t.loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(gradient_vector(net, t), engine.grads, rtol=1e-10, atol=1e-14)
    # dWl = dZl A(l-1)^T and dbl = dZl, as the notebook writes them (m = 1)
    for i in range(1, L + 1):
        below = t["X"] if i == 1 else t[f"A{i - 1}"]
        np.testing.assert_allclose(t[f"dW{i}"], t[f"dZ{i}"] @ below.T, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(t[f"db{i}"], t[f"dZ{i}"], rtol=1e-10, atol=1e-14)
    for i in range(1, L):  # dZl = dAl * f'(Zl)
        np.testing.assert_allclose(t[f"dZ{i}"], t[f"dA{i}"] * t[f"f'(Z{i})"], rtol=1e-10, atol=1e-14)


def test_gradients_match_finite_differences():
    net = float64_network((12, 8))
    image, label = an_image(2), 4
    t = trace(net, image, label)
    analytic = gradient_vector(net, t)
    X = image.reshape(784, 1).astype(np.float64)
    rng = np.random.default_rng(0)
    eps = 1e-5
    for i in rng.choice(net.params.size, size=80, replace=False):
        saved = net.params[i]
        net.params[i] = saved + eps
        plus = cross_entropy(net.forward(X), np.array([label]))
        net.params[i] = saved - eps
        minus = cross_entropy(net.forward(X), np.array([label]))
        net.params[i] = saved
        numeric = (plus - minus) / (2 * eps)
        assert abs(numeric - analytic[i]) <= 1e-6 * max(1e-3, abs(numeric) + abs(analytic[i]))


def test_a_step_moves_the_probability_towards_the_label_on_a_private_copy():
    shared = Network(architecture(hidden=(10,), init="uniform"), seed=5)
    shared.metadata = {"name": "shared"}
    before = shared.params.copy()
    mine = private_copy(shared)
    image = an_image(3)
    label = (trace(mine, image).digit + 1) % 10
    p0 = trace(mine, image).probabilities[label]
    t = learn(mine, image, label, alpha=0.1)
    np.testing.assert_allclose(t.probabilities[label], p0, rtol=1e-6)  # the trace is of the step's start
    np.testing.assert_allclose(mine.layers[0].params["W"], t["W1"] - np.float32(0.1) * t["dW1"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(mine.layers[2].params["b"], t["b2"] - np.float32(0.1) * t["db2"], rtol=1e-6, atol=1e-7)
    assert trace(mine, image).probabilities[label] > p0
    np.testing.assert_array_equal(shared.params, before)  # the shared model never changes
    assert mine.metadata == shared.metadata and mine.params.dtype == np.float32


def test_trace_leaves_out_dropout():
    net = Network(architecture(hidden=(16,), dropout=0.5), seed=0)
    image = an_image()
    t = trace(net, image, 3)
    np.testing.assert_allclose(t.probabilities, softmax(net.forward(image.reshape(784, 1)))[:, 0], rtol=1e-5)
    assert t.n_layers == 2 and "dW1" in t.values


def test_a_conv_network_is_refused():
    net = Network(architecture(hidden=(8,), conv=((2, 5),)))
    with pytest.raises(NotDense):
        trace(net, an_image())
