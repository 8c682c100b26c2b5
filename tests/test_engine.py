"""The maths of network/: activations, softmax, gradients, optimisers, training."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from network import model
from network.activations import ACTIVATIONS, cross_entropy, one_hot, softmax, softmax_loss
from network.augment import _GRID, AUGMENTATIONS, augment, redrawn, skeletons, warp
from network.conv import MaxPool2D
from network.model import ArchitectureError, Network, architecture
from network.optimizers import ONECYCLE_WARMUP, OPTIMIZERS, scheduled_lr
from network.recipe_rules import RecipeError
from network.shapes import as_columns
from network.training import (
    PRESETS,
    DistortedBatch,
    TrainConfig,
    TrainingDiverged,
    batches,
    new_network,
    train_steps,
    train_to_end,
)
from tests.toys import toy_images

# -- activations -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(name):
    f, f_deriv = ACTIVATIONS[name]
    Z = np.linspace(-3, 3, 61).astype(np.float64)
    Z = Z[np.abs(Z) > 1e-3]  # no kink at exactly 0
    eps = 1e-6
    numeric = (f(Z + eps) - f(Z - eps)) / (2 * eps)
    np.testing.assert_allclose(f_deriv(Z, f(Z)), numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_float32(name):
    f, f_deriv = ACTIVATIONS[name]
    Z = np.linspace(-2, 2, 10, dtype=np.float32)
    A = f(Z)
    assert A.dtype == np.float32
    assert np.asarray(f_deriv(Z, A) * Z).dtype == np.float32


def test_relu_and_sigmoid_values():
    relu, _ = ACTIVATIONS["relu"]
    sigmoid, _ = ACTIVATIONS["sigmoid"]
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0, 0, 3])
    assert sigmoid(np.float32(0)) == 0.5
    assert np.isfinite(sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32))).all()


def test_softmax_columns_sum_to_one_and_survive_huge_scores():
    Z = np.array([[1000.0, -1000.0], [1001.0, -999.0], [999.0, -1001.0]], dtype=np.float32)
    A = softmax(Z)
    assert np.isfinite(A).all()
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-6)
    assert A[1, 0] == A.max()
    assert np.isfinite(cross_entropy(Z, np.array([0, 2])))


def test_cross_entropy_of_uniform_scores_is_log_10():
    assert cross_entropy(np.zeros((10, 4), np.float32), np.array([0, 1, 2, 3])) == pytest.approx(np.log(10), rel=1e-6)


def test_one_hot_puts_a_single_one_per_column():
    Y = one_hot(np.array([3, 0, 9]))
    assert Y.shape == (10, 3) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y.argmax(axis=0), [3, 0, 9])
    np.testing.assert_array_equal(Y.sum(axis=0), [1, 1, 1])


# -- gradient check ----------------------------------------------------------

def numeric_gradient_check(arch, l2, n_checked=60, seed=0):
    """Compare analytic gradients with central finite differences in float64;
    returns the largest relative error over a random sample of parameters."""
    net = Network(arch, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    # Non-zero biases keep ReLU units off their kink at 0.
    for layer in net.layers:
        if "b" in layer.params:
            layer.params["b"][...] = rng.uniform(-0.5, 0.5, layer.params["b"].shape)
    X = rng.random((784, 5))
    labels = np.array([0, 3, 7, 9, 3])
    net.gradient(X, labels, l2)
    analytic = net.grads.copy()
    eps = 1e-5
    worst = 0.0
    for i in rng.choice(net.params.size, size=min(n_checked, net.params.size), replace=False):
        saved = net.params[i]
        net.params[i] = saved + eps
        plus = net.gradient(X, labels, l2)[0]
        net.params[i] = saved - eps
        minus = net.gradient(X, labels, l2)[0]
        net.params[i] = saved
        numeric = (plus - minus) / (2 * eps)
        worst = max(worst, abs(numeric - analytic[i]) / max(1e-7, abs(numeric) + abs(analytic[i])))
    return worst


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradient_check_dense(activation):
    arch = architecture(hidden=(12, 8), activation=activation, init="xavier")
    assert numeric_gradient_check(arch, l2=0.01) < 1e-5


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradient_check_conv(activation):
    arch = architecture(hidden=(8,), activation=activation, conv=((3, 5), (4, 3)), init="he")
    assert numeric_gradient_check(arch, l2=0.01, n_checked=80) < 1e-5


def test_saliency_is_the_gradient_of_the_class_score():
    net = Network(architecture(hidden=(16,), conv=((2, 5),)), seed=1, dtype=np.float64)
    image = np.random.default_rng(2).random((28, 28))
    grad = net.saliency(image, 4)
    eps = 1e-5
    for (r, c) in [(10, 10), (14, 15), (20, 7)]:
        up, down = image.copy(), image.copy()
        up[r, c] += eps
        down[r, c] -= eps
        score = lambda img: net.forward(img.reshape(784, 1))[4, 0]  # noqa: E731
        assert grad[r, c] == pytest.approx((score(up) - score(down)) / (2 * eps), rel=1e-4, abs=1e-8)


def test_gradient_check_conv_on_a_batch_in_halves(monkeypatch):
    """A batch cut in halves (the second in the worker process) gets the
    same gradient as in one piece."""
    arch = architecture(hidden=(8,), conv=((3, 5), (4, 3)), init="he")
    net = Network(arch, seed=3, dtype=np.float64)
    monkeypatch.setattr(model, "MIN_HALF_WORK", net.multiply_adds * 30)  # this batch of 69 is worth cutting
    rng = np.random.default_rng(3)
    X = rng.random((784, 69))
    labels = rng.integers(0, 10, X.shape[1])
    loss, correct = net.gradient(X, labels)
    assert net.second_half is not None
    net.done_training()
    whole = net.twin()
    assert whole.shard_gradient(X, labels) == (pytest.approx(loss, rel=1e-12), correct)
    np.testing.assert_allclose(net.grads, whole.grads, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_a_pooled_conv_block_computes_what_its_three_layers_compute(activation):
    """conv -> activation -> pool, run as conv -> pool -> bias -> activation
    (PooledConv), reads the same to the last bit and learns the same."""
    net = Network(architecture(hidden=(8,), activation=activation, conv=((3, 5), (4, 3))), seed=4)
    assert [type(stage).__name__ for stage in net.stages][:2] == ["PooledConv", "PooledConv"]
    rng = np.random.default_rng(4)
    for layer in net.layers:
        if "b" in layer.params:
            layer.params["b"][...] = rng.uniform(-0.5, 0.5, layer.params["b"].shape)
    X = as_columns(toy_images(40)[0])
    labels = rng.integers(0, 10, X.shape[1])
    layer_by_layer = net.twin()
    layer_by_layer.stages = layer_by_layer.layers
    A = X
    for layer in net.layers:
        A = layer.forward(A)
    np.testing.assert_array_equal(net.forward(X), A)
    assert net.shard_gradient(X, labels) == layer_by_layer.shard_gradient(X, labels)
    np.testing.assert_allclose(net.grads, layer_by_layer.grads, rtol=1e-5, atol=1e-6)


def test_max_pool_gives_a_tied_block_one_gradient():
    """Blocks of equal values (an empty corner of a drawing) pass the
    gradient to their first member only, as the max has one input to move."""
    pool = MaxPool2D((1, 4, 4))
    A = np.zeros((16, 1), np.float32)
    A[5] = 2.0  # block (0, 0) of 4x4 is pixels 0, 1, 4, 5: pixel 5 wins it
    out = pool.forward(A, keep=True)
    np.testing.assert_array_equal(out[:, 0], [2, 0, 0, 0])
    dA = pool.backward(np.ones((4, 1), np.float32)).reshape(4, 4)
    assert dA.sum() == 4 and dA[1, 1] == 1 and dA[0, 2] == 1 and dA[2, 0] == 1 and dA[2, 2] == 1


def test_reading_changes_nothing_in_the_network():
    """Prediction, saliency and activations are pure functions of the weights
    and the image: what the layers hold after a training step survives them."""
    net = Network(architecture(hidden=(16,), conv=((2, 5),), dropout=0.2), seed=1)
    images, labels = toy_images(8)
    net.gradient(as_columns(images), labels)
    before = [dict(vars(layer)) for layer in net.layers]
    params, grads = net.params.copy(), net.grads.copy()
    net.predict_proba(images)
    net.explain(images[0] / 255)
    for layer, kept in zip(net.layers, before):
        assert vars(layer).keys() == kept.keys()
        assert all(vars(layer)[key] is value for key, value in kept.items())
    np.testing.assert_array_equal(net.params, params)
    np.testing.assert_array_equal(net.grads, grads)


def test_readers_on_many_threads_see_what_one_reader_sees():
    net = Network(architecture(hidden=(16,), conv=((4, 5), (4, 3))), seed=2)
    images = toy_images(16)[0] / np.float32(255)
    alone = [net.saliency(image, 3) for image in images]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda image: net.saliency(image, 3), images))
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)


# -- network -----------------------------------------------------------------

def test_seed_architecture_is_784_10_10_with_uniform_init():
    net = new_network(PRESETS["seed"])
    assert net.describe() == "784-10-10 relu"
    W1 = net.layers[0].params["W"]
    assert W1.shape == (10, 784) and net.layers[2].params["W"].shape == (10, 10)
    assert -0.5 <= net.params.min() and net.params.max() <= 0.5
    assert net.params.dtype == np.float32


def test_predictions_are_probabilities_for_rows_of_images():
    net = new_network(PRESETS["default"])
    images, _ = toy_images(7)
    P = net.predict_proba(images)
    assert P.shape == (7, 10) and P.dtype == np.float32
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(net.predict(images.reshape(7, 784)), P.argmax(axis=1))


def test_hidden_activations_have_layer_shapes():
    net = new_network(PRESETS["default"])
    shapes = [a.shape for _, a in net.hidden_activations(np.zeros((28, 28), np.float32))]
    assert shapes == [(16, 24, 24), (32, 10, 10), (128,)]


@pytest.mark.parametrize("arch", [
    {"input": [1, 28, 28], "init": "he", "layers": []},
    {"input": [1, 28, 28], "init": "he", "layers": [{"type": "dense", "units": 5}]},
    {"input": [1, 28, 28], "init": "bogus", "layers": [{"type": "dense", "units": 10}]},
    {"input": [1, 28, 28], "init": "he", "layers": [{"type": "dense", "units": "10"}]},
    {"input": [1, 28, 28], "init": "he", "layers": [{"type": "maxpool", "size": 3}, {"type": "dense", "units": 10}]},
    {"input": [1, 28, 28], "init": "he", "layers": [{"type": "warp"}, {"type": "dense", "units": 10}]},
])
def test_bad_architectures_are_refused(arch):
    with pytest.raises(ArchitectureError):
        Network(arch)


def test_same_seed_same_network_and_same_training():
    images, labels = toy_images(200)
    config = dataclasses.replace(PRESETS["fast"], epochs=1, batch_size=50, dropout=0.2, augment=AUGMENTATIONS)
    runs = []
    for _ in range(2):
        net = new_network(config)
        train_to_end(net, config, images, labels)
        runs.append(net.params.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


# -- optimisers and schedules ------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_minimises_a_quadratic(name):
    """Each optimiser walks params towards the minimum of |params - target|^2."""
    target = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    params = np.zeros(3, dtype=np.float32)
    grads = np.zeros(3, dtype=np.float32)
    optimizer = OPTIMIZERS[name](3)
    lr = {"gd": 0.1, "momentum": 0.05, "adam": 0.1}[name]
    for _ in range(300):
        grads[...] = 2 * (params - target)
        optimizer.step(params, grads, lr)
    np.testing.assert_allclose(params, target, atol=0.05)
    assert params.dtype == np.float32


def test_gradient_descent_step_is_the_seed_update():
    params = np.array([1.0, 2.0], np.float32)
    OPTIMIZERS["gd"](2).step(params, np.array([0.5, -1.0], np.float32), 0.1)
    np.testing.assert_allclose(params, [0.95, 2.1])


def test_schedules():
    assert scheduled_lr(0.1, "constant", 0.9) == 0.1
    assert scheduled_lr(0.1, "step", 0.4) == 0.1
    assert scheduled_lr(0.1, "step", 0.6) == pytest.approx(0.01)
    assert scheduled_lr(0.1, "step", 0.8) == pytest.approx(0.001)
    assert scheduled_lr(0.1, "cosine", 0.0) == pytest.approx(0.1)
    assert scheduled_lr(0.1, "cosine", 0.5) == pytest.approx(0.05)
    assert scheduled_lr(0.1, "cosine", 1.0) == pytest.approx(0.0)
    # one-cycle: a tenth of the rate at the start, the peak after the warm-up, 0 at the end
    assert scheduled_lr(0.1, "onecycle", 0.0) == pytest.approx(0.01)
    assert scheduled_lr(0.1, "onecycle", ONECYCLE_WARMUP / 2) == pytest.approx(0.055)
    assert scheduled_lr(0.1, "onecycle", ONECYCLE_WARMUP) == pytest.approx(0.1)
    assert scheduled_lr(0.1, "onecycle", (1 + ONECYCLE_WARMUP) / 2) == pytest.approx(0.05)
    assert scheduled_lr(0.1, "onecycle", 1.0) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        scheduled_lr(0.1, "wiggle", 0.5)


# -- augmentation ------------------------------------------------------------

def test_augment_keeps_shape_range_and_ink():
    images, _ = toy_images(64)
    out = augment(images, np.random.default_rng(0))
    assert out.shape == (64, 28, 28) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    assert not np.allclose(out, images / 255)  # it did change something
    # A centred digit keeps most of its ink after a small distortion.
    blob = np.zeros((1, 28, 28), np.uint8)
    blob[0, 10:18, 12:16] = 255
    moved = augment(np.repeat(blob, 20, 0), np.random.default_rng(1), ("shift", "rotate", "scale"))
    ink = moved.sum(axis=(1, 2)) / (blob.sum() / 255)
    assert np.all((ink > 0.6) & (ink < 1.6))


def test_warp_samples_bilinearly_and_reads_zero_outside():
    rng = np.random.default_rng(4)
    images = rng.random((3, 28, 28), dtype=np.float32)
    here = np.repeat(_GRID[None, :2] + np.float32(13.5), 3, axis=0)  # every pixel reads itself
    np.testing.assert_array_equal(warp(images, here.copy()), images)
    right = here.copy()
    right[:, 0] += 1  # every pixel reads its right neighbour; the last column reads outside
    expected = np.zeros_like(images)
    expected[:, :, :-1] = images[:, :, 1:]
    np.testing.assert_array_equal(warp(images, right), expected)
    half = here.copy()
    half[:, 1] += np.float32(0.5)  # half way to the pixel below: the mean of the two
    np.testing.assert_allclose(warp(images, half)[:, :-1], (images[:, :-1] + images[:, 1:]) / 2, rtol=1e-6)


def test_augment_without_kinds_is_identity():
    images, _ = toy_images(5)
    np.testing.assert_allclose(augment(images, np.random.default_rng(0), ()), images / 255, rtol=1e-6)


def added_strokes(digit, kind, label, other):
    """The ink `kind` adds to 40 copies of `digit` labelled `label` (only
    to some, never removing any) and to 2 labelled `other` (none): the
    images it changed."""
    images = np.stack([digit] * 42)
    labels = np.array([label] * 40 + [other] * 2)
    out = augment(images, np.random.default_rng(0), (kind,), labels)
    assert np.all(out >= images / 255 - 1e-6)   # the digit keeps all its ink
    added = out - images / 255
    changed = added.sum(axis=(1, 2)) > 1
    assert 3 < changed[:40].sum() < 35 and not changed[40:].any()
    # without labels nothing changes
    np.testing.assert_allclose(augment(images, np.random.default_rng(0), (kind,)), images / 255, rtol=1e-6)
    return added[changed]


def test_flag_gives_some_1s_a_stroke_down_to_the_left_of_their_top():
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 14:16] = 255                      # a bare 1, two pixels wide
    for image in added_strokes(one, "flag", 1, 7):
        rows, cols = np.nonzero(image > 0.5)
        assert cols.max() <= 16 and cols.min() < 13 and rows.min() >= 2  # to the left, from the top down


def test_cross_gives_some_7s_a_bar_across_the_stem():
    seven = np.zeros((28, 28), np.uint8)
    seven[4:6, 8:20] = 255                       # the top bar
    seven[6:24, 18:20] = 255                     # a straight stem
    for image in added_strokes(seven, "cross", 7, 1):
        rows, cols = np.nonzero(image > 0.5)
        assert 10 <= rows.min() and rows.max() <= 20          # about half way down
        assert cols.min() < 17 and cols.max() > 20            # on both sides of the stem


def test_hook_gives_some_9s_a_tail_turning_left_at_the_bottom():
    nine = np.zeros((28, 28), np.uint8)
    nine[4:12, 10:20] = 255                      # a (filled) loop
    nine[4:24, 18:20] = 255                      # the stem
    for image in added_strokes(nine, "hook", 9, 3):
        rows, cols = np.nonzero(image > 0.5)
        assert rows.min() >= 14 and rows.max() <= 24 and cols.min() < 17   # from the stem's end, to the left


def test_skeletons_are_one_pixel_lines_inside_the_ink():
    bar = np.zeros((1, 28, 28), bool)
    bar[0, 5:23, 10:15] = True                   # a stroke 5 px wide
    skeleton = skeletons(bar)
    assert skeleton.sum() > 10 and not (skeleton & ~bar).any()
    assert skeleton.sum(axis=2).max() == 1       # one pixel across
    ring = np.zeros((1, 28, 28), bool)
    ring[0, 6:22, 6:22] = True
    ring[0, 10:18, 10:18] = False                # a thick 0
    thin = skeletons(ring)
    assert not thin[0, 10:18, 10:18].any() and thin[0, :, 14].sum() == 2   # still closed round its hole


def test_pen_redraws_strokes_one_round_pen_wide():
    image = np.zeros((28, 28), np.float32)
    image[6:22, 10:12] = 1.0                     # thin at the top ...
    image[14:22, 10:16] = 1.0                    # ... a blob at the bottom: MNIST's pens swell
    out = redrawn(np.stack([image] * 20), np.random.default_rng(0))
    assert out.shape == (20, 28, 28) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    widths = (out > 0.5).sum(axis=2)             # ink per row
    inked = widths[:, 8:18]
    assert inked.min() >= 1 and widths[:, 8:12].max() <= 4   # unbroken, one pen wide
    assert widths[:, 15:18].mean() < 4 < 6                   # the 6 px blob thinned to the pen
    empty = np.zeros((1, 28, 28), np.float32)
    assert not redrawn(empty, np.random.default_rng(0)).any()


# -- training loop -----------------------------------------------------------

@pytest.mark.parametrize("pixels_together", [False, True])
def test_a_distorted_batch_made_in_parts_is_the_batch_made_at_once(pixels_together):
    """Training's distorted batches are made half by half (in two processes,
    see second_half.py): the same columns as distorting the whole batch at
    once, and the same random numbers drawn in the same order."""
    images, labels = toy_images(50)
    config = TrainConfig(conv=() if pixels_together else ((4, 5),), batch_size=16, epochs=1,
                         augment=AUGMENTATIONS)
    rng = np.random.default_rng(5)
    order = rng.permutation(50)
    for i, (batch, y) in enumerate(batches(config, images, labels, np.random.default_rng(5))):
        idx = order[16 * i:16 * (i + 1)]
        whole = as_columns(augment(images[idx], rng, AUGMENTATIONS, labels[idx]), pixels_together)
        m = len(idx)
        assert isinstance(batch, DistortedBatch) and batch.shape == (784, m)
        np.testing.assert_array_equal(np.hstack([batch.columns(0, m // 2), batch.columns(m // 2)]), whole)
        np.testing.assert_array_equal(y, labels[idx])


def test_fast_preset_learns_toy_images():
    images, labels = toy_images(1000)
    config = dataclasses.replace(PRESETS["fast"], epochs=3, batch_size=64, eval_every=None)
    net = new_network(config)
    history = train_to_end(net, config, images[:800], labels[:800], images[800:], labels[800:])
    assert history[-1].done and history[-1].step == 3 * 13
    assert history[-1].loss < history[0].loss
    assert history[-1].dev_accuracy > 0.9
    assert [p.epoch for p in history if p.dev_accuracy is not None] == [1.0, 2.0, 3.0]


def test_seed_preset_on_a_small_subset_is_full_batch_gradient_descent():
    images, labels = toy_images(300)
    config = dataclasses.replace(PRESETS["seed"], iterations=60)
    net = new_network(config)
    history = train_to_end(net, config, images[:250], labels[:250], images[250:], labels[250:])
    assert len(history) == 60 and history[-1].epoch == 60  # one step per epoch: full batch
    assert [p.step for p in history if p.dev_accuracy is not None] == list(range(10, 61, 10))
    assert all(p.learning_rate == 0.10 for p in history)
    assert history[-1].train_accuracy > history[0].train_accuracy


def test_training_can_pause_and_resume_between_steps():
    images, labels = toy_images(200)
    config = dataclasses.replace(PRESETS["fast"], epochs=1, batch_size=20)
    paused = new_network(config)
    steps = train_steps(paused, config, images, labels)
    first = [next(steps) for _ in range(4)]
    snapshot = paused.params.copy()
    rest = list(steps)  # resumed later, from exactly where it stopped
    assert [p.step for p in first + rest] == list(range(1, 11))
    assert not np.array_equal(snapshot, paused.params)
    straight = new_network(config)
    train_to_end(straight, config, images, labels)
    np.testing.assert_array_equal(straight.params, paused.params)


def test_divergence_stops_with_a_message_and_keeps_last_good_weights():
    images, labels = toy_images(200)
    config = dataclasses.replace(PRESETS["fast"], optimizer="gd", lr=10.0, epochs=20, batch_size=50)
    net = new_network(config)
    with pytest.raises(TrainingDiverged, match="learning rate"):
        train_to_end(net, config, images, labels)
    assert np.isfinite(net.params).all()
    assert np.isfinite(net.predict_proba(images[:5])).all()


@pytest.mark.parametrize("change", [
    dict(lr=-1), dict(optimizer="sgd2"), dict(epochs=None, iterations=None), dict(dropout=1.0),
    dict(augment=("blur",)), dict(hidden=(0,)), dict(schedule="wiggle"), dict(batch_size=0),
])
def test_bad_configs_are_refused_with_a_message(change):
    with pytest.raises(RecipeError):
        dataclasses.replace(TrainConfig(), **change).check()


def test_config_json_round_trip():
    config = PRESETS["default"]
    assert TrainConfig.from_json(config.to_json()) == config


def test_explain_gathers_what_the_draw_page_shows():
    net = new_network(PRESETS["default"])
    image = toy_images(1)[0][0] / 255
    reading = net.explain(image.astype(np.float32))
    np.testing.assert_allclose(reading.probabilities, net.predict_proba(image[None])[0], rtol=1e-6)
    assert reading.digit == int(reading.probabilities.argmax())
    np.testing.assert_allclose(reading.saliency, net.saliency(image.astype(np.float32), reading.digit), rtol=1e-5)
    assert [a.shape for _, a in reading.activations] == [(16, 24, 24), (32, 10, 10), (128,)]


def test_recipes_parse_and_describe_themselves():
    from network.training import parse_conv, parse_widths
    assert parse_widths("256, 128") == (256, 128) and parse_widths("") == ()
    assert parse_conv("16x5, 32X3") == ((16, 5), (32, 3)) and parse_conv("none") == ()
    for bad, parse in (("12,x", parse_widths), ("16x", parse_conv), ("5", parse_conv)):
        with pytest.raises(RecipeError):
            parse(bad)
    assert PRESETS["fast"].describe() == "784-128-10 relu · Adam lr 0.002 · batch 128 · 2 epochs"
    assert PRESETS["seed"].describe() == "784-10-10 relu · gradient descent lr 0.1 · full batch · 500 iterations"


def test_images_with_their_pixels_together_are_the_same_columns():
    images = toy_images(5)[0]
    for batch in (images, images / np.float32(255)):
        X = as_columns(batch, pixels_together=True)
        assert X.dtype == np.float32 and X.flags.f_contiguous
        np.testing.assert_array_equal(X, as_columns(batch))


def test_softmax_loss_is_softmax_cross_entropy_and_its_gradient():
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        Z = (rng.standard_normal((10, 40)) * 30).astype(dtype)  # some probabilities underflow
        labels = rng.integers(0, 10, 40)
        loss, correct, dZ = softmax_loss(Z, labels)
        A = softmax(Z)
        assert loss == cross_entropy(Z, labels) and np.isfinite(loss)
        assert correct == np.count_nonzero(A.argmax(axis=0) == labels)
        np.testing.assert_array_equal(dZ, A - one_hot(labels))
        assert dZ.dtype == dtype
